import EventLog
import JSON
import Testing
@testable import Domain

/// pbrl §7-5: the person has four weeks from receiving the decision to appeal.
/// An appeal received more than 28 days after the last `DecisionSent` before it
/// is flagged `late` (the 28th day is in time, the 29th late) for the case
/// office to check; with no decision sent, no deadline runs.
struct AppealDeadlineTests {
    func sent(_ on: String) -> (String, String?) {
        ("DecisionSent", #"{"sentOn":"\#(on)","channel":"digital","appealInformationIncluded":true}"#)
    }
    func appeal(_ on: String) -> (String, String?) { ("AppealReceived", #"{"receivedOn":"\#(on)","grounds":"Uenig"}"#) }
    let decided: [(String, String?)] = [("ApplicationReceived", nil), ("AssessmentCompleted", nil), ("DecisionMade", nil)]

    @Test(arguments: [
        ("2026-02-02", "2026-03-02", 28, false),  // the 28th day: in time
        ("2026-02-02", "2026-03-03", 29, true),   // the 29th: late
        ("2024-02-01", "2024-02-29", 28, false),  // across a leap day
        ("2024-02-01", "2024-03-01", 29, true),
        ("2026-02-02", "2026-02-02", 0, false),   // the same day
    ])
    func anAppealIsLateFromThe29thDay(sentOn: String, receivedOn: String, days: Int, late: Bool) throws {
        let state = try fold(decided + [sent(sentOn), appeal(receivedOn)])
        let a = try #require(state.appeals.first)
        #expect(a.decisionSentOn == d(sentOn) && a.daysSinceDecisionSent == days && a.late == late)
    }

    @Test func withNoDecisionSentNoDeadlineRuns() throws {
        let a = try #require(try fold(decided + [appeal("2027-06-01")]).appeals.first)
        #expect(a.decisionSentOn == nil && a.daysSinceDecisionSent == nil && !a.late)
    }

    @Test func theLastDecisionSentBeforeTheAppealCounts() throws {
        // A first letter long before, a second (with the appeal information) later: the second counts.
        let state = try fold(decided + [sent("2026-01-01"), sent("2026-02-20"), appeal("2026-03-10"), sent("2026-03-20"), appeal("2026-05-01")])
        #expect(state.appeals.map(\.daysSinceDecisionSent) == [18, 42])
        #expect(state.appeals.map(\.late) == [false, true])
    }

    /// The audit replay shows it: the state after the AppealReceived carries the flag and the days.
    @Test func theSummaryShowsIt() throws {
        let state = try fold(decided + [sent("2026-02-02"), appeal("2026-03-03")])
        let summary = Summary.of(state, personId: nil, showPersonID: false)
        guard case .array(let appeals)? = summary.first(where: { $0.key == "appeals" })?.value, case .object(let first)? = appeals.first else {
            Issue.record("no appeals in the summary"); return
        }
        #expect(first.first { $0.key == "late" }?.value == .bool(true))
        #expect(first.first { $0.key == "daysSinceDecisionSent" }?.value == .integer(29))
    }
}
