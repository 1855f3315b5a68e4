import EventLog
import JSON

// The event catalogue of DOMAIN.md: one struct per event type. Each reads itself
// from a payload (naming the field of any shape error) and lists its own dates
// (checked by rule 10) apart from the dates that look ahead.

public struct ApplicationReceived: Hashable, Sendable, Codable {
    public var personId: String
    public var receivedOn: BusinessDate
    public var requested: [Service]
    public var origin: Origin
    public var unit: String
}

public struct PreliminaryReplySent: Hashable, Sendable, Codable {
    public var sentOn: BusinessDate
    public var expectedDecisionBy: BusinessDate
}

public struct AssessmentCompleted: Hashable, Sendable, Codable {
    public var completedOn: BusinessDate
    public var longTermNeed: Bool
    public var services: [String]
    public var residesInMunicipality: Bool
    public var wantsIndividualPlan: Bool

    /// Two or more distinct services make the need coordinated.
    public var coordinatedNeed: Bool { Set(services).count >= 2 }
}

public struct ConsentGiven: Hashable, Sendable, Codable {
    public var givenOn: BusinessDate
    public var scope: [ConsentScope]
    public var givenBy: ConsentGiver
}

public struct ConsentWithdrawn: Hashable, Sendable, Codable {
    public var withdrawnOn: BusinessDate
    public var scope: [ConsentScope]
}

public struct DecisionMade: Hashable, Sendable, Codable {
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

public struct DecisionSent: Hashable, Sendable, Codable {
    public var sentOn: BusinessDate
    public var channel: Channel
    public var appealInformationIncluded: Bool
}

public struct AppealReceived: Hashable, Sendable, Codable {
    public var receivedOn: BusinessDate
    public var grounds: String
}

public struct AppealForwarded: Hashable, Sendable, Codable {
    public var forwardedOn: BusinessDate
}

public struct AppealDecided: Hashable, Sendable, Codable {
    public var decidedOn: BusinessDate
    public var decidedBy: AppealBody
    public var outcome: AppealOutcome
}

public struct CoordinatorAppointed: Hashable, Sendable, Codable {
    public var coordinatorId: String
    public var appointedOn: BusinessDate
}

public struct CoordinatorReleased: Hashable, Sendable, Codable {
    public var coordinatorId: String
    public var releasedOn: BusinessDate
    public var reason: String
}

public struct GroupMemberAdded: Hashable, Sendable, Codable {
    public var memberId: String
    public var role: String
    public var organisation: String
    public var addedOn: BusinessDate
}

public struct GroupMemberRemoved: Hashable, Sendable, Codable {
    public var memberId: String
    public var removedOn: BusinessDate
}

public struct MeetingScheduled: Hashable, Sendable, Codable {
    public var meetingId: String
    public var scheduledFor: BusinessDate
}

public struct ActionItem: Hashable, Sendable, Codable {
    public var itemId: String
    public var description: String
    public var responsible: String
    public var dueOn: BusinessDate
}

public struct MeetingHeld: Hashable, Sendable, Codable {
    public var meetingId: String
    public var heldOn: BusinessDate
    public var attendees: [String]
    public var minutesWritten: Bool
    public var actionItems: [ActionItem]
}

public struct MinutesWritten: Hashable, Sendable, Codable {
    public var meetingId: String
    public var writtenOn: BusinessDate
}

public struct MeetingCancelled: Hashable, Sendable, Codable {
    public var meetingId: String
    public var cancelledOn: BusinessDate
    public var reason: String
}

public struct ActionItemCompleted: Hashable, Sendable, Codable {
    public var itemId: String
    public var completedOn: BusinessDate
}

public struct Goal: Hashable, Sendable, Codable {
    public var goalId: String
    public var description: String
    public var horizon: Horizon
}

public struct Measure: Hashable, Sendable, Codable {
    public var measureId: String
    public var description: String
    public var responsible: String?
}

public struct PlanEstablished: Hashable, Sendable, Codable {
    public var establishedOn: BusinessDate
    public var goals: [Goal]
    public var measures: [Measure]
    public var nextEvaluationDue: BusinessDate?
}

public struct GoalAdded: Hashable, Sendable, Codable {
    public var goal: Goal
    public var addedOn: BusinessDate
}

public struct GoalAchieved: Hashable, Sendable, Codable {
    public var goalId: String
    public var achievedOn: BusinessDate
}

public struct MeasureAdded: Hashable, Sendable, Codable {
    public var measure: Measure
    public var addedOn: BusinessDate
}

public struct PlanEvaluated: Hashable, Sendable, Codable {
    public var evaluatedOn: BusinessDate
    public var nextEvaluationDue: BusinessDate
    public var summary: String
}

public struct TransitionPlanned: Hashable, Sendable, Codable {
    public var transition: String
    public var plannedFor: BusinessDate
}

public struct DeviationReported: Hashable, Sendable, Codable {
    public var deviationId: String
    public var reportedOn: BusinessDate
    public var category: String
    public var description: String
    public var externalRef: String?
}

public struct DeviationResolved: Hashable, Sendable, Codable {
    public var deviationId: String
    public var resolvedOn: BusinessDate
    public var resolution: String
}

public struct PlanClosed: Hashable, Sendable, Codable {
    public var closedOn: BusinessDate
    public var reason: CloseReason
}

public struct CoordinatorRegistered: Hashable, Sendable, Codable {
    public var coordinatorId: String
    public var name: String
    public var unit: String
    public var profession: String
    public var registeredOn: BusinessDate
}

public struct CoordinatorTrained: Hashable, Sendable, Codable {
    public var trainedOn: BusinessDate
    public var course: String
}

public struct CoordinatorDeactivated: Hashable, Sendable, Codable {
    public var deactivatedOn: BusinessDate
}

extension BusinessDate: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(daysSinceEpoch: try decoder.singleValueContainer().decode(Int32.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(daysSinceEpoch)
    }
}
