import EventLog
import JSON
import Testing
@testable import Domain

/// Folds `(type, payload)` pairs from an empty case.
func fold(_ events: [(String, String?)]) throws -> CaseState {
    try events.reduce(CaseState()) { state, e in
        let event = try decode(e.0, e.1)
        return state.applying(event, occurredOn: event.ownDates.first?.date ?? today)
    }
}

struct FoldTests {
    let opened: [(String, String?)] = [("ApplicationReceived", nil)]

    @Test func eachEventChangesWhatItShould() throws {
        var s = try fold(opened)
        #expect(s.status == .received && s.receivedOn == d("2026-01-05") && s.unit == "Hjemmetjenesten")
        #expect(s.requested == [.individualPlan, .coordinator] && s.origin == .application)
        func step(_ type: String, _ json: String? = nil) throws {
            let e = try decode(type, json)
            s.apply(e, occurredOn: e.ownDates.first?.date ?? today)
        }
        try step("PreliminaryReplySent")
        #expect(s.preliminaryReplies == [d("2026-01-20")] && s.expectedDecisionBy == d("2026-03-01"))
        try step("AssessmentCompleted")
        #expect(s.status == .assessed && s.assessment?.coordinatedNeed == true)
        try step("ConsentGiven")
        #expect(s.consentInForce(.individualPlan) && s.consentInForce(.coordinator) && !s.consentInForce(.informationSharing))
        try step("DecisionMade")
        #expect(s.status == .decided && s.individualPlanGranted && s.coordinatorGranted)
        try step("DecisionSent")
        #expect(s.lettersSent.count == 1)
        try step("CoordinatorAppointed")
        #expect(s.status == .active && s.activeCoordinator == "0001")
        try step("GroupMemberAdded")
        #expect(s.members == ["g-1": "fastlege"] && s.memberIDs == ["g-1"])
        try step("MeetingScheduled")
        #expect(s.meetings["m-1"]?.scheduledFor == d("2026-03-01") && s.meetings["m-1"]?.heldOn == nil)
        try step("MeetingHeld")
        #expect(s.meetings["m-1"]?.heldOn == d("2026-03-01") && s.meetings["m-1"]?.minutesWritten == false)
        #expect(s.items["a-1"]?.dueOn == d("2026-04-01") && s.items["a-1"]?.meetingId == "m-1")
        try step("MinutesWritten")
        #expect(s.meetings["m-1"]?.minutesWritten == true && s.meetings["m-1"]?.minutesWrittenOn == d("2026-03-04"))
        try step("ActionItemCompleted")
        #expect(s.items["a-1"]?.completedOn == d("2026-03-20"))
        try step("PlanEstablished")
        #expect(s.planEstablishedOn == d("2026-03-05") && s.goals.keys.sorted() == ["goal-1"])
        // Someone is responsible; who is personal data and stays out of the state.
        #expect(s.measures["measure-1"] == .some("") && s.nextEvaluationDue == d("2026-09-05"))
        try step("GoalAdded")
        #expect(s.goals["goal-2"]?.horizon == .short)
        try step("MeasureAdded")
        #expect(s.measures.keys.contains("measure-2") && s.measures["measure-2"] == .some(nil))
        try step("GoalAchieved")
        #expect(s.goals["goal-1"]?.achievedOn == d("2026-05-01"))
        try step("DeviationReported")
        #expect(s.deviations["d-1"]?.resolvedOn == nil && s.deviations["d-1"]?.category == "dokumentasjon")
        try step("DeviationResolved")
        #expect(s.deviations["d-1"]?.resolvedOn == d("2026-04-20"))
        try step("CoordinatorReleased")
        #expect(s.activeCoordinator == nil && s.status == .active && s.appointments[0].releasedOn == d("2026-05-01"))
        try step("GroupMemberRemoved")
        #expect(s.members.isEmpty && s.memberIDs == ["g-1"])
        try step("ConsentWithdrawn")
        #expect(!s.consentInForce(.individualPlan) && s.consentInForce(.coordinator))
        try step("PlanEvaluated")
        #expect(s.evaluations == [d("2026-09-01")] && s.nextEvaluationDue == d("2027-03-01"))
        try step("TransitionPlanned")
        #expect(s.transitions.map(\.plannedFor) == [d("2027-01-01")] && s.transitions.map(\.transition) == [""])
        try step("PlanClosed")
        #expect(s.status == .closed && s.closed?.reason == .needEnded && !s.isOpen)
    }

    @Test func cancellingAMeetingKeepsItsIdTaken() throws {
        let s = try fold(opened + [("MeetingScheduled", nil), ("MeetingCancelled", nil)])
        #expect(s.meetings["m-1"]?.cancelledOn == d("2026-02-20"))
    }

    @Test func statusFollowsTheTable() throws {
        let denial = #"{"decidedOn":"2026-02-01","individualPlan":"denied","coordinator":"denied","childCoordinator":"notRequested","grounds":"x","decidedBy":"c"}"#
        let nothing = #"{"decidedOn":"2026-02-01","individualPlan":"notRequested","coordinator":"notRequested","childCoordinator":"notRequested","grounds":"x","decidedBy":"c"}"#
        let reversed = #"{"decidedOn":"2026-04-01","decidedBy":"countyGovernor","outcome":"reversed"}"#
        let partly = #"{"decidedOn":"2026-04-01","decidedBy":"municipality","outcome":"partlyReversed"}"#
        let assessed: [(String, String?)] = opened + [("AssessmentCompleted", nil)]
        #expect(try fold(assessed + [("DecisionMade", denial)]).status == .denied)
        #expect(try fold(assessed + [("DecisionMade", nothing)]).status == .assessed)  // grants nothing, denies nothing
        #expect(try fold(assessed + [("DecisionMade", denial), ("AppealDecided", nil)]).status == .denied)  // confirmed
        #expect(try fold(assessed + [("DecisionMade", denial), ("AppealDecided", reversed)]).status == .assessed)
        #expect(try fold(assessed + [("DecisionMade", denial), ("AppealDecided", partly)]).status == .assessed)
        // Schema version 2: quashed sends the case back like a reversal; the rest change nothing
        // (upheld, version 1's name, reads as confirmed).
        for (outcome, status) in [("quashed", CaseStatus.assessed), ("confirmed", .denied), ("dismissed", .denied), ("withdrawn", .denied), ("upheld", .denied)] {
            let decided = #"{"decidedOn":"2026-04-01","decidedBy":"countyGovernor","outcome":"\#(outcome)"}"#
            #expect(try fold(assessed + [("DecisionMade", denial), ("AppealDecided", decided)]).status == status, "\(outcome)")
        }
        // A grant while active keeps the case active; an assessment does not move a decided case back.
        let active = assessed + [("ConsentGiven", nil), ("DecisionMade", nil), ("CoordinatorAppointed", nil)]
        #expect(try fold(active + [("DecisionMade", nil)]).status == .active)
        #expect(try fold(assessed + [("ConsentGiven", nil), ("DecisionMade", nil), ("AssessmentCompleted", nil)]).status == .decided)
        // An appeal reversal of a case that is not denied changes nothing.
        #expect(try fold(active + [("AppealDecided", reversed)]).status == .active)
    }

    @Test func theCoordinatorFoldKnowsRegistrationTrainingAndDeactivation() throws {
        var c = CoordinatorState()
        #expect(!c.isAvailable)
        c.apply(try decode("CoordinatorRegistered"))
        #expect(c.isAvailable && !c.trained(on: d("2026-01-01")))
        c.apply(try decode("CoordinatorTrained"))
        #expect(c.trained(on: d("2025-01-10")) && !c.trained(on: d("2025-01-09")))
        c.apply(try decode("CoordinatorDeactivated"))
        #expect(!c.isAvailable && c.deactivatedOn == d("2026-06-01"))
    }
}
