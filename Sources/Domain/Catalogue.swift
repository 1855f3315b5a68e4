import EventLog
import JSON

// The event catalogue (docs/RULES.md): one struct per event type. Each reads itself
// from a payload (naming the field of any shape error) and lists its own dates
// (checked by rule 10) apart from the dates that look ahead.

public struct ApplicationReceived: Hashable, Sendable {
    public var personId: String
    public var receivedOn: BusinessDate
    public var requested: [Service]
    public var origin: Origin
    public var unit: String
}

extension ApplicationReceived: CatalogueEvent {
    static let kind = DomainEvent.Kind.applicationReceived
    static let dateField: String? = "receivedOn"
    static let sealed: SealedFields? = .members(["personId": .all])
    var ownDate: BusinessDate? { receivedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(personId: try r.personIDDigits("personId"), receivedOn: try r.date("receivedOn"),
            requested: try r.choices("requested", nonEmpty: true), origin: try r.choice("origin"),
            unit: try r.string("unit"))
    }
}

public struct PreliminaryReplySent: Hashable, Sendable {
    public var sentOn: BusinessDate
    public var expectedDecisionBy: BusinessDate
}

extension PreliminaryReplySent: CatalogueEvent {
    static let kind = DomainEvent.Kind.preliminaryReplySent
    static let dateField: String? = "sentOn"
    var ownDate: BusinessDate? { sentOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(sentOn: try r.date("sentOn"), expectedDecisionBy: try r.date("expectedDecisionBy"))
    }
}

public struct AssessmentCompleted: Hashable, Sendable {
    public var completedOn: BusinessDate
    public var longTermNeed: Bool
    public var services: [String]
    public var residesInMunicipality: Bool
    public var wantsIndividualPlan: Bool

    /// Two or more distinct services make the need coordinated.
    public var coordinatedNeed: Bool { Set(services).count >= 2 }
}

extension AssessmentCompleted: CatalogueEvent {
    static let kind = DomainEvent.Kind.assessmentCompleted
    static let dateField: String? = "completedOn"
    var ownDate: BusinessDate? { completedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(completedOn: try r.date("completedOn"), longTermNeed: try r.bool("longTermNeed"),
            services: try r.strings("services"), residesInMunicipality: try r.bool("residesInMunicipality"),
            wantsIndividualPlan: try r.bool("wantsIndividualPlan"))
    }
}

public struct ConsentGiven: Hashable, Sendable {
    public var givenOn: BusinessDate
    public var scope: [ConsentScope]
    public var givenBy: ConsentGiver
}

extension ConsentGiven: CatalogueEvent {
    static let kind = DomainEvent.Kind.consentGiven
    static let dateField: String? = "givenOn"
    var ownDate: BusinessDate? { givenOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(givenOn: try r.date("givenOn"), scope: try r.choices("scope", nonEmpty: true), givenBy: try r.choice("givenBy"))
    }
}

public struct ConsentWithdrawn: Hashable, Sendable {
    public var withdrawnOn: BusinessDate
    public var scope: [ConsentScope]
}

extension ConsentWithdrawn: CatalogueEvent {
    static let kind = DomainEvent.Kind.consentWithdrawn
    static let dateField: String? = "withdrawnOn"
    var ownDate: BusinessDate? { withdrawnOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(withdrawnOn: try r.date("withdrawnOn"), scope: try r.choices("scope", nonEmpty: true))
    }
}

public struct DecisionMade: Hashable, Sendable {
    public var decidedOn: BusinessDate
    public var individualPlan: Verdict
    public var coordinator: Verdict
    public var childCoordinator: Verdict
    public var grounds: String
    public var decidedBy: String

    public var grantsAnything: Bool { [individualPlan, coordinator, childCoordinator].contains(.granted) }
    public var deniesAnything: Bool { [individualPlan, coordinator, childCoordinator].contains(.denied) }
    /// Grants a coordinator, a child coordinator or an IP (which always gets one).
    public var grantsCoordinator: Bool { individualPlan == .granted || coordinator == .granted || childCoordinator == .granted }
}

extension DecisionMade: CatalogueEvent {
    static let kind = DomainEvent.Kind.decisionMade
    static let dateField: String? = "decidedOn"
    static let sealed: SealedFields? = .members(["grounds": .all])
    var ownDate: BusinessDate? { decidedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(decidedOn: try r.date("decidedOn"), individualPlan: try r.choice("individualPlan"),
            coordinator: try r.choice("coordinator"), childCoordinator: try r.choice("childCoordinator"),
            grounds: try r.string("grounds"), decidedBy: try r.string("decidedBy"))
    }
}

public struct DecisionSent: Hashable, Sendable {
    public var sentOn: BusinessDate
    public var channel: Channel
    public var appealInformationIncluded: Bool
}

extension DecisionSent: CatalogueEvent {
    static let kind = DomainEvent.Kind.decisionSent
    static let dateField: String? = "sentOn"
    var ownDate: BusinessDate? { sentOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(sentOn: try r.date("sentOn"), channel: try r.choice("channel"),
            appealInformationIncluded: try r.bool("appealInformationIncluded"))
    }
}

public struct AppealReceived: Hashable, Sendable {
    public var receivedOn: BusinessDate
    public var grounds: String
}

extension AppealReceived: CatalogueEvent {
    static let kind = DomainEvent.Kind.appealReceived
    static let dateField: String? = "receivedOn"
    static let sealed: SealedFields? = .members(["grounds": .all])
    var ownDate: BusinessDate? { receivedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(receivedOn: try r.date("receivedOn"), grounds: try r.string("grounds"))
    }
}

public struct AppealForwarded: Hashable, Sendable {
    public var forwardedOn: BusinessDate
}

extension AppealForwarded: CatalogueEvent {
    static let kind = DomainEvent.Kind.appealForwarded
    static let dateField: String? = "forwardedOn"
    var ownDate: BusinessDate? { forwardedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(forwardedOn: try r.date("forwardedOn"))
    }
}

public struct AppealDecided: Hashable, Sendable {
    public var decidedOn: BusinessDate
    public var decidedBy: AppealBody
    public var outcome: AppealOutcome
}

extension AppealDecided: CatalogueEvent {
    static let kind = DomainEvent.Kind.appealDecided
    static let dateField: String? = "decidedOn"
    /// Version 2 renamed `upheld` to `confirmed` and added `quashed`,
    /// `dismissed` and `withdrawn` (``AppealOutcome``).
    static let schemaVersion: UInt16 = 2

    static func upcast(_ payload: inout [JSONValue.Member], from version: UInt16) {
        if version < 2, let i = payload.firstIndex(where: { $0.key == "outcome" }),
           let name = payload[i].value.stringValue, let outcome = AppealOutcome.formerNames[name] {
            payload[i].value = .string(outcome.rawValue)
        }
    }
    var ownDate: BusinessDate? { decidedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(decidedOn: try r.date("decidedOn"), decidedBy: try r.choice("decidedBy"),
            outcome: try r.choice("outcome", formerNames: AppealOutcome.formerNames))
    }
}

public struct CoordinatorAppointed: Hashable, Sendable {
    public var coordinatorId: String
    public var appointedOn: BusinessDate
}

extension CoordinatorAppointed: CatalogueEvent {
    static let kind = DomainEvent.Kind.coordinatorAppointed
    static let dateField: String? = "appointedOn"
    var ownDate: BusinessDate? { appointedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(coordinatorId: try r.string("coordinatorId"), appointedOn: try r.date("appointedOn"))
    }
}

public struct CoordinatorReleased: Hashable, Sendable {
    public var coordinatorId: String
    public var releasedOn: BusinessDate
    public var reason: String
}

extension CoordinatorReleased: CatalogueEvent {
    static let kind = DomainEvent.Kind.coordinatorReleased
    static let dateField: String? = "releasedOn"
    static let sealed: SealedFields? = .members(["reason": .all])
    var ownDate: BusinessDate? { releasedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(coordinatorId: try r.string("coordinatorId"), releasedOn: try r.date("releasedOn"), reason: try r.string("reason"))
    }
}

public struct GroupMemberAdded: Hashable, Sendable {
    public var memberId: String
    public var role: String
    public var organisation: String
    public var addedOn: BusinessDate
}

extension GroupMemberAdded: CatalogueEvent {
    static let kind = DomainEvent.Kind.groupMemberAdded
    static let dateField: String? = "addedOn"
    var ownDate: BusinessDate? { addedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(memberId: try r.string("memberId"), role: try r.string("role"),
            organisation: try r.string("organisation"), addedOn: try r.date("addedOn"))
    }
}

public struct GroupMemberRemoved: Hashable, Sendable {
    public var memberId: String
    public var removedOn: BusinessDate
}

extension GroupMemberRemoved: CatalogueEvent {
    static let kind = DomainEvent.Kind.groupMemberRemoved
    static let dateField: String? = "removedOn"
    var ownDate: BusinessDate? { removedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(memberId: try r.string("memberId"), removedOn: try r.date("removedOn"))
    }
}

public struct MeetingScheduled: Hashable, Sendable {
    public var meetingId: String
    public var scheduledFor: BusinessDate
}

extension MeetingScheduled: CatalogueEvent {
    static let kind = DomainEvent.Kind.meetingScheduled
    static let dateField: String? = nil  // its only date looks ahead
    var ownDate: BusinessDate? { nil }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(meetingId: try r.string("meetingId"), scheduledFor: try r.date("scheduledFor"))
    }
}

public struct ActionItem: Hashable, Sendable {
    public var itemId: String
    public var description: String
    public var responsible: String
    public var dueOn: BusinessDate
}

public struct MeetingHeld: Hashable, Sendable {
    public var meetingId: String
    public var heldOn: BusinessDate
    public var attendees: [String]
    public var minutesWritten: Bool
    public var actionItems: [ActionItem]
}

extension MeetingHeld: CatalogueEvent {
    static let kind = DomainEvent.Kind.meetingHeld
    static let dateField: String? = "heldOn"
    static let sealed: SealedFields? = .members(["attendees": .all, "actionItems": .members(["description": .all, "responsible": .all])])
    var ownDate: BusinessDate? { heldOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(
            meetingId: try r.string("meetingId"), heldOn: try r.date("heldOn"), attendees: try r.strings("attendees"),
            minutesWritten: try r.bool("minutesWritten"),
            actionItems: try r.objects("actionItems") { (i: inout R) throws(LogError) in
                ActionItem(itemId: try i.string("itemId"), description: try i.string("description"),
                           responsible: try i.string("responsible"), dueOn: try i.date("dueOn"))
            })
    }
}

public struct MinutesWritten: Hashable, Sendable {
    public var meetingId: String
    public var writtenOn: BusinessDate
}

extension MinutesWritten: CatalogueEvent {
    static let kind = DomainEvent.Kind.minutesWritten
    static let dateField: String? = "writtenOn"
    var ownDate: BusinessDate? { writtenOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(meetingId: try r.string("meetingId"), writtenOn: try r.date("writtenOn"))
    }
}

public struct MeetingCancelled: Hashable, Sendable {
    public var meetingId: String
    public var cancelledOn: BusinessDate
    public var reason: String
}

extension MeetingCancelled: CatalogueEvent {
    static let kind = DomainEvent.Kind.meetingCancelled
    static let dateField: String? = "cancelledOn"
    static let sealed: SealedFields? = .members(["reason": .all])
    var ownDate: BusinessDate? { cancelledOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(meetingId: try r.string("meetingId"), cancelledOn: try r.date("cancelledOn"), reason: try r.string("reason"))
    }
}

public struct ActionItemCompleted: Hashable, Sendable {
    public var itemId: String
    public var completedOn: BusinessDate
}

extension ActionItemCompleted: CatalogueEvent {
    static let kind = DomainEvent.Kind.actionItemCompleted
    static let dateField: String? = "completedOn"
    var ownDate: BusinessDate? { completedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(itemId: try r.string("itemId"), completedOn: try r.date("completedOn"))
    }
}

public struct Goal: Hashable, Sendable {
    public var goalId: String
    public var description: String
    public var horizon: Horizon

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Goal {
        Goal(goalId: try r.string("goalId"), description: try r.string("description"), horizon: try r.choice("horizon"))
    }
}

public struct Measure: Hashable, Sendable {
    public var measureId: String
    public var description: String
    public var responsible: String?

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Measure {
        Measure(measureId: try r.string("measureId"), description: try r.string("description"), responsible: try r.optionalString("responsible"))
    }
}

public struct PlanEstablished: Hashable, Sendable {
    public var establishedOn: BusinessDate
    public var goals: [Goal]
    public var measures: [Measure]
    public var nextEvaluationDue: BusinessDate?
}

extension PlanEstablished: CatalogueEvent {
    static let kind = DomainEvent.Kind.planEstablished
    static let dateField: String? = "establishedOn"
    static let sealed: SealedFields? = .members(["goals": .members(["description": .all]), "measures": .members(["description": .all, "responsible": .all])])
    static let isPlanWork = true
    var ownDate: BusinessDate? { establishedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(
            establishedOn: try r.date("establishedOn"),
            goals: try r.objects("goals") { (g: inout R) throws(LogError) in try Goal.read(&g) },
            measures: try r.objects("measures") { (m: inout R) throws(LogError) in try Measure.read(&m) },
            nextEvaluationDue: try r.optionalDate("nextEvaluationDue"))
    }
}

public struct GoalAdded: Hashable, Sendable {
    public var goal: Goal
    public var addedOn: BusinessDate
}

extension GoalAdded: CatalogueEvent {
    static let kind = DomainEvent.Kind.goalAdded
    static let dateField: String? = "addedOn"
    static let sealed: SealedFields? = .members(["description": .all])
    static let isPlanWork = true
    var ownDate: BusinessDate? { addedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(goal: try Goal.read(&r), addedOn: try r.date("addedOn"))
    }
}

public struct GoalAchieved: Hashable, Sendable {
    public var goalId: String
    public var achievedOn: BusinessDate
}

extension GoalAchieved: CatalogueEvent {
    static let kind = DomainEvent.Kind.goalAchieved
    static let dateField: String? = "achievedOn"
    static let isPlanWork = true
    var ownDate: BusinessDate? { achievedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(goalId: try r.string("goalId"), achievedOn: try r.date("achievedOn"))
    }
}

public struct MeasureAdded: Hashable, Sendable {
    public var measure: Measure
    public var addedOn: BusinessDate
}

extension MeasureAdded: CatalogueEvent {
    static let kind = DomainEvent.Kind.measureAdded
    static let dateField: String? = "addedOn"
    static let sealed: SealedFields? = .members(["description": .all, "responsible": .all])
    static let isPlanWork = true
    var ownDate: BusinessDate? { addedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(measure: try Measure.read(&r), addedOn: try r.date("addedOn"))
    }
}

public struct PlanEvaluated: Hashable, Sendable {
    public var evaluatedOn: BusinessDate
    public var nextEvaluationDue: BusinessDate
    public var summary: String
}

extension PlanEvaluated: CatalogueEvent {
    static let kind = DomainEvent.Kind.planEvaluated
    static let dateField: String? = "evaluatedOn"
    static let sealed: SealedFields? = .members(["summary": .all])
    static let isPlanWork = true
    var ownDate: BusinessDate? { evaluatedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(evaluatedOn: try r.date("evaluatedOn"), nextEvaluationDue: try r.date("nextEvaluationDue"), summary: try r.string("summary"))
    }
}

public struct TransitionPlanned: Hashable, Sendable {
    public var transition: String
    public var plannedFor: BusinessDate
}

extension TransitionPlanned: CatalogueEvent {
    static let kind = DomainEvent.Kind.transitionPlanned
    static let dateField: String? = nil  // its only date looks ahead
    static let sealed: SealedFields? = .members(["transition": .all])
    var ownDate: BusinessDate? { nil }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(transition: try r.string("transition"), plannedFor: try r.date("plannedFor"))
    }
}

public struct DeviationReported: Hashable, Sendable {
    public var deviationId: String
    public var reportedOn: BusinessDate
    public var category: String
    public var description: String
    public var externalRef: String?
}

extension DeviationReported: CatalogueEvent {
    static let kind = DomainEvent.Kind.deviationReported
    static let dateField: String? = "reportedOn"
    static let sealed: SealedFields? = .members(["description": .all])
    var ownDate: BusinessDate? { reportedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(deviationId: try r.string("deviationId"), reportedOn: try r.date("reportedOn"),
            category: try r.string("category"), description: try r.string("description"),
            externalRef: try r.optionalString("externalRef"))
    }
}

public struct DeviationResolved: Hashable, Sendable {
    public var deviationId: String
    public var resolvedOn: BusinessDate
    public var resolution: String
}

extension DeviationResolved: CatalogueEvent {
    static let kind = DomainEvent.Kind.deviationResolved
    static let dateField: String? = "resolvedOn"
    static let sealed: SealedFields? = .members(["resolution": .all])
    var ownDate: BusinessDate? { resolvedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(deviationId: try r.string("deviationId"), resolvedOn: try r.date("resolvedOn"), resolution: try r.string("resolution"))
    }
}

public struct PlanClosed: Hashable, Sendable {
    public var closedOn: BusinessDate
    public var reason: CloseReason
}

extension PlanClosed: CatalogueEvent {
    static let kind = DomainEvent.Kind.planClosed
    static let dateField: String? = "closedOn"
    var ownDate: BusinessDate? { closedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(closedOn: try r.date("closedOn"), reason: try r.choice("reason"))
    }
}

public struct CoordinatorRegistered: Hashable, Sendable {
    public var coordinatorId: String
    public var name: String
    public var unit: String
    public var profession: String
    public var registeredOn: BusinessDate
}

extension CoordinatorRegistered: CatalogueEvent {
    static let kind = DomainEvent.Kind.coordinatorRegistered
    static let stream = StreamKind.coordinator
    static let dateField: String? = "registeredOn"
    var ownDate: BusinessDate? { registeredOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(coordinatorId: try r.string("coordinatorId"), name: try r.string("name"),
            unit: try r.string("unit"), profession: try r.string("profession"),
            registeredOn: try r.date("registeredOn"))
    }
}

public struct CoordinatorTrained: Hashable, Sendable {
    public var trainedOn: BusinessDate
    public var course: String
}

extension CoordinatorTrained: CatalogueEvent {
    static let kind = DomainEvent.Kind.coordinatorTrained
    static let stream = StreamKind.coordinator
    static let dateField: String? = "trainedOn"
    var ownDate: BusinessDate? { trainedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(trainedOn: try r.date("trainedOn"), course: try r.string("course"))
    }
}

public struct CoordinatorDeactivated: Hashable, Sendable {
    public var deactivatedOn: BusinessDate
}

extension CoordinatorDeactivated: CatalogueEvent {
    static let kind = DomainEvent.Kind.coordinatorDeactivated
    static let stream = StreamKind.coordinator
    static let dateField: String? = "deactivatedOn"
    var ownDate: BusinessDate? { deactivatedOn }

    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self {
        Self(deactivatedOn: try r.date("deactivatedOn"))
    }
}
