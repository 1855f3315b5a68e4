import EventLog

/// An append refused by one of the numbered rules of docs/RULES.md (exit 3).
public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The rule's stable code; its raw value is printed in brackets.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let caseNotOpen = Code(rawValue: "caseNotOpen")
        public static let caseAlreadyOpen = Code(rawValue: "caseAlreadyOpen")
        public static let personHasOpenCase = Code(rawValue: "personHasOpenCase")
        public static let caseClosed = Code(rawValue: "caseClosed")
        public static let assessmentRequired = Code(rawValue: "assessmentRequired")
        public static let consentRequired = Code(rawValue: "consentRequired")
        public static let decisionRequired = Code(rawValue: "decisionRequired")
        public static let planRequired = Code(rawValue: "planRequired")
        public static let coordinatorUnavailable = Code(rawValue: "coordinatorUnavailable")
        public static let coordinatorAlreadyActive = Code(rawValue: "coordinatorAlreadyActive")
        public static let coordinatorRequired = Code(rawValue: "coordinatorRequired")
        public static let unknownReference = Code(rawValue: "unknownReference")
        public static let duplicateId = Code(rawValue: "duplicateId")
        public static let dateOutOfRange = Code(rawValue: "dateOutOfRange")
        /// The unit of an application or a coordinator's registration is not one
        /// of the municipality's units (`config.json`'s `units`, when it lists them).
        public static let unknownUnit = Code(rawValue: "unknownUnit")
        /// Not one of the numbered rules of docs/RULES.md: the case's personal data was
        /// erased (`iplog erase`), so it takes no more personal values.
        public static let personErased = Code(rawValue: "personErased")
    }

    public var code: Code
    /// Plain words that say what is missing, naming the stream, never a person.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "[\(code.rawValue)] \(message)" }
}

/// What the rules need to know from outside the stream, looked up by the policy
/// in the same write transaction.
public struct RuleInputs: Sendable {
    public var today: BusinessDate
    /// For `ApplicationReceived`: the person's other case that is neither
    /// closed nor denied, if they have one.
    public var personsOpenCase: String?
    /// For `CoordinatorAppointed`: the appointed coordinator's stream state
    /// (nil when it has no events).
    public var appointedCoordinator: CoordinatorState?

    public init(today: BusinessDate, personsOpenCase: String? = nil, appointedCoordinator: CoordinatorState? = nil) {
        self.today = today
        self.personsOpenCase = personsOpenCase
        self.appointedCoordinator = appointedCoordinator
    }
}

/// The rules 1–10 of docs/RULES.md, checked in their order; the first one broken is thrown.
/// Pure: the state and the inputs are all it looks at.
public enum Rules {
    /// Checks an event for a case stream against the case's state.
    public static func check(
        _ event: DomainEvent, type: String, occurredOn: BusinessDate, stream: String,
        state: CaseState, inputs: RuleInputs
    ) throws(Refusal) {
        // 1. A case starts with ApplicationReceived, and only once.
        if case .applicationReceived = event {
            if state.status != nil { throw Refusal(.caseAlreadyOpen, "\(stream) is open already; an application opens a new case") }
        } else if state.status == nil {
            throw Refusal(.caseNotOpen, "\(stream) has no ApplicationReceived; a case starts with one")
        }
        // 2. One person, one open case.
        if case .applicationReceived = event, let open = inputs.personsOpenCase {
            throw Refusal(.personHasOpenCase, "\(stream): the person has another case, \(open), that is neither closed nor denied; one person has one individual plan")
        }
        // 3. A closed or denied case takes few events.
        if let status = state.status, !status.isOpen {
            let allowed: Bool
            switch event {
            case .decisionSent, .appealReceived, .appealForwarded, .appealDecided, .deviationReported, .deviationResolved: allowed = true
            case .decisionMade, .planClosed: allowed = status == .denied
            default: allowed = false
            }
            if !allowed {
                throw Refusal(.caseClosed, "\(stream) is \(status.rawValue); it takes no \(type)")
            }
        }
        // 4. A decision needs an assessment.
        if case .decisionMade = event, state.assessment == nil {
            throw Refusal(.assessmentRequired, "\(stream): DecisionMade needs an AssessmentCompleted first")
        }
        // 5. No plan, and no coordinator, without consent in force.
        if event.isPlanWork, !state.consentInForce(.individualPlan) {
            throw Refusal(.consentRequired, "\(stream): \(type) needs consent with scope individualPlan in force")
        }
        if case .coordinatorAppointed = event, !state.consentInForce(.coordinator), !state.consentInForce(.individualPlan) {
            throw Refusal(.consentRequired, "\(stream): CoordinatorAppointed needs consent with scope coordinator or individualPlan in force")
        }
        // 6. Plan work needs an IP grant and (but the first) a plan; an appointment a grant.
        if event.isPlanWork, !state.individualPlanGranted {
            throw Refusal(.decisionRequired, "\(stream): \(type) needs a decision that granted an individual plan")
        }
        if case .coordinatorAppointed = event, !state.coordinatorGranted {
            throw Refusal(.decisionRequired, "\(stream): CoordinatorAppointed needs a decision that granted a coordinator, a child coordinator or an individual plan")
        }
        switch event {
        case .goalAdded, .goalAchieved, .measureAdded, .planEvaluated:
            if state.planEstablishedOn == nil { throw Refusal(.planRequired, "\(stream): \(type) needs a PlanEstablished first") }
        default: break
        }
        // 7. The coordinator appointed is available, and the case has none active.
        if case .coordinatorAppointed(let e) = event {
            guard let coordinator = inputs.appointedCoordinator, coordinator.isAvailable else {
                throw Refusal(.coordinatorUnavailable, "\(stream): coordinator-\(e.coordinatorId) is not registered, or is deactivated")
            }
            if let active = state.activeCoordinator {
                throw Refusal(.coordinatorAlreadyActive, "\(stream): coordinator-\(active) is active; release them before appointing another")
            }
        }
        // 8. Meetings and the plan are led by an active coordinator.
        switch event {
        case .meetingHeld, .planEstablished:
            if state.activeCoordinator == nil { throw Refusal(.coordinatorRequired, "\(stream): \(type) needs an active coordinator") }
        default: break
        }
        // 9. References exist; what is introduced is new.
        try checkReferences(event, stream: stream, state: state)
        // 10. Dates are not in the future and not before the case was received.
        try checkDates(event, occurredOn: occurredOn, stream: stream, earliest: state.receivedOn ?? caseReceivedOn(event), today: inputs.today)
    }

    private static func caseReceivedOn(_ event: DomainEvent) -> BusinessDate? {
        if case .applicationReceived(let e) = event { return e.receivedOn }
        return nil
    }

    static func checkReferences(_ event: DomainEvent, stream: String, state: CaseState) throws(Refusal) {
        func unknown(_ what: String, _ id: String) -> Refusal { Refusal(.unknownReference, "\(stream): no \(what) \(id) in the case") }
        func duplicate(_ what: String, _ id: String) -> Refusal { Refusal(.duplicateId, "\(stream): \(what) \(id) exists already") }
        switch event {
        case .minutesWritten(let e):
            if state.meetings[e.meetingId] == nil { throw unknown("meeting", e.meetingId) }
        case .meetingCancelled(let e):
            if state.meetings[e.meetingId] == nil { throw unknown("meeting", e.meetingId) }
        case .groupMemberRemoved(let e):
            if state.members[e.memberId] == nil { throw Refusal(.unknownReference, "\(stream): \(e.memberId) is not a member of the group") }
        case .actionItemCompleted(let e):
            if state.items[e.itemId] == nil { throw unknown("action item", e.itemId) }
        case .goalAchieved(let e):
            if state.goals[e.goalId] == nil { throw unknown("goal", e.goalId) }
        case .deviationResolved(let e):
            if state.deviations[e.deviationId] == nil { throw unknown("deviation", e.deviationId) }
        case .coordinatorReleased(let e):
            if state.activeCoordinator != e.coordinatorId {
                throw Refusal(.unknownReference, "\(stream): coordinator-\(e.coordinatorId) is not the active coordinator")
            }
        case .meetingScheduled(let e):
            if state.meetings[e.meetingId] != nil { throw duplicate("meeting", e.meetingId) }
        case .meetingHeld(let e):
            if state.meetings[e.meetingId]?.heldOn != nil { throw duplicate("meeting", e.meetingId) }
            var seen = Set<String>()
            for item in e.actionItems where state.items[item.itemId] != nil || !seen.insert(item.itemId).inserted {
                throw duplicate("action item", item.itemId)
            }
        case .groupMemberAdded(let e):
            if state.memberIDs.contains(e.memberId) { throw duplicate("member", e.memberId) }
        case .planEstablished(let e):
            if state.planEstablishedOn != nil { throw Refusal(.duplicateId, "\(stream) has a plan already; a case has one PlanEstablished") }
            var goals = Set<String>(), measures = Set<String>()
            for g in e.goals where !goals.insert(g.goalId).inserted { throw duplicate("goal", g.goalId) }
            for m in e.measures where !measures.insert(m.measureId).inserted { throw duplicate("measure", m.measureId) }
        case .goalAdded(let e):
            if state.goals[e.goal.goalId] != nil { throw duplicate("goal", e.goal.goalId) }
        case .measureAdded(let e):
            if state.measures[e.measure.measureId] != nil { throw duplicate("measure", e.measure.measureId) }
        case .deviationReported(let e):
            if state.deviations[e.deviationId] != nil { throw duplicate("deviation", e.deviationId) }
        default: break
        }
    }

    static func checkDates(_ event: DomainEvent, occurredOn: BusinessDate, stream: String, earliest: BusinessDate?, today: BusinessDate) throws(Refusal) {
        for (field, date) in [("occurredOn", occurredOn)] + event.ownDates {
            if date > today {
                throw Refusal(.dateOutOfRange, "\(stream): \(field) \(date) is after today (\(today))")
            }
            if let earliest, date < earliest {
                throw Refusal(.dateOutOfRange, "\(stream): \(field) \(date) is before the case was received (\(earliest))")
            }
        }
    }

    /// Checks an event for a coordinator stream against the coordinator's state.
    public static func checkCoordinator(
        _ event: DomainEvent, type: String, occurredOn: BusinessDate, stream: String,
        state: CoordinatorState, inputs: RuleInputs
    ) throws(Refusal) {
        switch event {
        case .coordinatorRegistered:
            if state.registered != nil { throw Refusal(.duplicateId, "\(stream) is registered already; a coordinator is registered once") }
        case .coordinatorDeactivated:
            if state.registered == nil { throw Refusal(.unknownReference, "\(stream) is not registered") }
            if state.deactivatedOn != nil { throw Refusal(.duplicateId, "\(stream) is deactivated already") }
        default:
            if state.registered == nil { throw Refusal(.unknownReference, "\(stream) is not registered") }
        }
        try checkDates(event, occurredOn: occurredOn, stream: stream, earliest: nil, today: inputs.today)
    }
}
