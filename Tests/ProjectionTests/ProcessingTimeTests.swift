import Deviations
import Domain
import EventLog
import Testing

/// Processing time to the day: the deadline day is in time, the day after is
/// not; a preliminary reply moves the deadline; the first decision counts.
struct ProcessingTimeTests {
    func state(_ events: [Dated]) -> CaseState { DeviationTracker.fold(events).state }

    @Test func decisionsByUnitAndMonthWithMedianP90AndPastDeadline() {
        let cases = [
            state([E.application("2026-01-05"), E.assessment("2026-01-20"), E.decision("2026-03-02")]),  // 56 days: the deadline day
            state([E.application("2026-01-05"), E.assessment("2026-01-20"), E.decision("2026-03-03")]),  // 57: one day late
            state([E.application("2026-01-05"), E.reply("2026-01-20", expected: "2026-03-20"), E.assessment("2026-01-20"),
                   E.decision("2026-03-10")]),                                                            // 64, within the reply's date
            state([E.application("2026-01-05"), E.assessment("2026-01-20"), E.decision("2026-02-02"),
                   E.decision("2026-03-25")]),                                                            // the first decision: February
            state([E.application("2026-01-05")]),                                                          // not decided
        ]
        let rows = ProcessingTime.rows(cases, from: d("2026-01-01"), to: d("2026-12-31"), config: .defaults)
        #expect(rows.map(\.month) == ["2026-02", "2026-03"])
        let march = rows[1]
        #expect(march.decisions == 3 && march.medianDays == 57 && march.p90Days == 64 && march.pastDeadline == 1, "\(march)")
        #expect(rows[0].decisions == 1 && rows[0].medianDays == 28 && rows[0].pastDeadline == 0)
        // The period: decisions outside it are not counted; another unit is not this one.
        #expect(ProcessingTime.rows(cases, from: d("2026-03-03"), to: d("2026-03-10"), config: .defaults).first?.decisions == 2)
        #expect(ProcessingTime.rows(cases, from: d("2026-01-01"), to: d("2026-12-31"), unit: "Barnevern", config: .defaults).isEmpty)
        // A municipality's own deadline: 9 weeks makes none late.
        var config = DeviationConfig.defaults
        config.periods[.decisionOverdue] = Period(9, .weeks)
        #expect(ProcessingTime.rows(cases, from: d("2026-01-01"), to: d("2026-12-31"), config: config).allSatisfy { $0.pastDeadline == 0 })
    }
}
