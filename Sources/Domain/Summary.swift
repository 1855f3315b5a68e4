import EventLog
import JSON

/// How a state is shown: the facts a case office or county governor reads in an
/// audit replay, each as a JSON value, person ids masked unless asked for.
public enum Summary {
    /// The case's facts, in a fixed order.
    /// - Parameter personId: the case's person id as opened from the log
    ///   (``PersonalData/personId(ofCase:in:)``; `[erased]` after an erasure).
    public static func of(_ s: CaseState, personId: String?, showPersonID: Bool) -> [JSONValue.Member] {
        func date(_ d: BusinessDate?) -> JSONValue { d.map { .string($0.description) } ?? .null }
        func str(_ t: String?) -> JSONValue { t.map(JSONValue.string) ?? .null }
        let person = s.status == nil ? nil : personId.map { showPersonID ? $0 : PersonID.mask($0) }
        let decision = s.latestDecision.map { d -> JSONValue in
            .object([
                "decidedOn": .string(d.decidedOn.description), "individualPlan": .string(d.individualPlan.rawValue),
                "coordinator": .string(d.coordinator.rawValue), "childCoordinator": .string(d.childCoordinator.rawValue),
            ])
        } ?? .null
        let openItems = s.items.values.filter { $0.completedOn == nil }.count
        let held = s.meetings.values.compactMap(\.heldOn)
        return [
            .init("status", str(s.status?.rawValue)),
            .init("personId", str(person)),
            .init("unit", str(s.unit)),
            .init("receivedOn", date(s.receivedOn)),
            .init("assessedOn", date(s.assessment?.completedOn)),
            .init("consent", .array(ConsentScope.allCases.filter { s.consent[$0] != nil }.map { .string($0.rawValue) })),
            .init("decision", decision),
            .init("coordinatorId", str(s.activeCoordinator)),
            .init("groupMembers", .integer(s.members.count)),
            .init("meetingsHeld", .integer(held.count)),
            .init("lastMeetingOn", date(held.max())),
            .init("openActionItems", .integer(openItems)),
            .init("planEstablishedOn", date(s.planEstablishedOn)),
            .init("goals", .integer(s.goals.count)),
            .init("goalsAchieved", .integer(s.goals.values.filter { $0.achievedOn != nil }.count)),
            .init("measures", .integer(s.measures.count)),
            .init("nextEvaluationDue", date(s.nextEvaluationDue)),
            .init("transitionsPlanned", .integer(s.transitions.count)),
            .init("appeals", .array(s.appeals.map { a in
                .object([
                    .init("receivedOn", .string(a.receivedOn.description)),
                    .init("decisionSentOn", date(a.decisionSentOn)),
                    .init("daysSinceDecisionSent", a.daysSinceDecisionSent.map { JSONValue.integer($0) } ?? .null),
                    .init("late", .bool(a.late)),
                    .init("forwardedOn", date(a.forwardedOn)),
                    .init("decidedOn", date(a.decidedOn)),
                    .init("outcome", str(a.outcome?.rawValue)),
                ])
            })),
            .init("openDeviations", .integer(s.deviations.values.filter { $0.resolvedOn == nil }.count)),
            .init("closedOn", date(s.closed?.closedOn)),
        ]
    }

    /// A coordinator's facts.
    public static func of(_ s: CoordinatorState) -> [JSONValue.Member] {
        [
            .init("coordinatorId", s.registered.map { .string($0.coordinatorId) } ?? .null),
            .init("unit", s.registered.map { .string($0.unit) } ?? .null),
            .init("profession", s.registered.map { .string($0.profession) } ?? .null),
            .init("registeredOn", s.registered.map { .string($0.registeredOn.description) } ?? .null),
            .init("trainedOn", s.trainings.map(\.trainedOn).min().map { .string($0.description) } ?? .null),
            .init("deactivatedOn", s.deactivatedOn.map { .string($0.description) } ?? .null),
        ]
    }

    /// The members of `after` whose value differs from `before`.
    public static func changes(from before: [JSONValue.Member], to after: [JSONValue.Member]) -> [JSONValue.Member] {
        after.filter { member in before.first { $0.key == member.key }?.value != member.value }
    }

    /// A payload with its person ids masked (for people to read).
    public static func maskingPersonIDs(_ payload: JSONValue) -> JSONValue {
        guard case .object(let members) = payload else { return payload }
        return .object(members.map { m in
            if m.key == "personId", let id = m.value.stringValue { return .init(m.key, .string(PersonID.mask(id))) }
            return m
        })
    }
}
