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

public struct PreliminaryReplySent: Hashable, Sendable {
    public var sentOn: BusinessDate
    public var expectedDecisionBy: BusinessDate
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

public struct ConsentGiven: Hashable, Sendable {
    public var givenOn: BusinessDate
    public var scope: [ConsentScope]
    public var givenBy: ConsentGiver
}

public struct ConsentWithdrawn: Hashable, Sendable {
    public var withdrawnOn: BusinessDate
    public var scope: [ConsentScope]
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

public struct DecisionSent: Hashable, Sendable {
    public var sentOn: BusinessDate
    public var channel: Channel
    public var appealInformationIncluded: Bool
}

public struct AppealReceived: Hashable, Sendable {
    public var receivedOn: BusinessDate
    public var grounds: String
}

public struct AppealForwarded: Hashable, Sendable {
    public var forwardedOn: BusinessDate
}

public struct AppealDecided: Hashable, Sendable {
    public var decidedOn: BusinessDate
    public var decidedBy: AppealBody
    public var outcome: AppealOutcome
}

public struct CoordinatorAppointed: Hashable, Sendable {
    public var coordinatorId: String
    public var appointedOn: BusinessDate
}

public struct CoordinatorReleased: Hashable, Sendable {
    public var coordinatorId: String
    public var releasedOn: BusinessDate
    public var reason: String
}

public struct GroupMemberAdded: Hashable, Sendable {
    public var memberId: String
    public var role: String
    public var organisation: String
    public var addedOn: BusinessDate
}

public struct GroupMemberRemoved: Hashable, Sendable {
    public var memberId: String
    public var removedOn: BusinessDate
}

public struct MeetingScheduled: Hashable, Sendable {
    public var meetingId: String
    public var scheduledFor: BusinessDate
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

public struct MinutesWritten: Hashable, Sendable {
    public var meetingId: String
    public var writtenOn: BusinessDate
}

public struct MeetingCancelled: Hashable, Sendable {
    public var meetingId: String
    public var cancelledOn: BusinessDate
    public var reason: String
}

public struct ActionItemCompleted: Hashable, Sendable {
    public var itemId: String
    public var completedOn: BusinessDate
}

public struct Goal: Hashable, Sendable {
    public var goalId: String
    public var description: String
    public var horizon: Horizon
}

public struct Measure: Hashable, Sendable {
    public var measureId: String
    public var description: String
    public var responsible: String?
}

public struct PlanEstablished: Hashable, Sendable {
    public var establishedOn: BusinessDate
    public var goals: [Goal]
    public var measures: [Measure]
    public var nextEvaluationDue: BusinessDate?
}

public struct GoalAdded: Hashable, Sendable {
    public var goal: Goal
    public var addedOn: BusinessDate
}

public struct GoalAchieved: Hashable, Sendable {
    public var goalId: String
    public var achievedOn: BusinessDate
}

public struct MeasureAdded: Hashable, Sendable {
    public var measure: Measure
    public var addedOn: BusinessDate
}

public struct PlanEvaluated: Hashable, Sendable {
    public var evaluatedOn: BusinessDate
    public var nextEvaluationDue: BusinessDate
    public var summary: String
}

public struct TransitionPlanned: Hashable, Sendable {
    public var transition: String
    public var plannedFor: BusinessDate
}

public struct DeviationReported: Hashable, Sendable {
    public var deviationId: String
    public var reportedOn: BusinessDate
    public var category: String
    public var description: String
    public var externalRef: String?
}

public struct DeviationResolved: Hashable, Sendable {
    public var deviationId: String
    public var resolvedOn: BusinessDate
    public var resolution: String
}

public struct PlanClosed: Hashable, Sendable {
    public var closedOn: BusinessDate
    public var reason: CloseReason
}

public struct CoordinatorRegistered: Hashable, Sendable {
    public var coordinatorId: String
    public var name: String
    public var unit: String
    public var profession: String
    public var registeredOn: BusinessDate
}

public struct CoordinatorTrained: Hashable, Sendable {
    public var trainedOn: BusinessDate
    public var course: String
}

public struct CoordinatorDeactivated: Hashable, Sendable {
    public var deactivatedOn: BusinessDate
}
