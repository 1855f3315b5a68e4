import Deviations
import Domain
import EventLog
import Testing

/// DOMAIN: a denial stops the rules (but those that survive it); "when an
/// appeal reverses the denial, the rules apply again from the appeal decision
/// on: a deviation whose `since` fell while the case was denied, and that
/// nothing has ended, opens on the appeal decision's date". One whose `since`
/// comes after the reversal opens on its own day.
struct DenialReversalTests {
    /// The deviations open on `date`, from the events up to it (as a report as of that date sees them).
    func open(_ rule: DeviationRule, ref: String? = nil, on date: String, _ events: [Dated], trainings: [String: [BusinessDate]] = [:]) -> [DeviationRow] {
        openOn(date, events.filter { $0.1 <= d(date) }, trainings: trainings).filter { $0.rule == rule && (ref == nil || $0.ref == ref) }
    }

    /// The case: a child's responsibility group from 8 September 2025,
    /// the case denied on 29 September, the denial reversed by the county
    /// governor on 16 March 2026, the child 18 on 31 August 2026.
    @Test func aReversedDenialOpensWhatFellDueWhileItWasDenied() {
        let girl = person("310808", individual: 600)  // born 2008-08-31
        let history: [Dated] = [
            E.application("2025-09-01", person: girl), E.assessment("2025-09-05"), E.consent("2025-09-05"),
            E.decision("2025-09-06"), E.letter("2025-09-06"), E.appoint("2025-09-07"), E.member("2025-09-08"),
            E.decision("2025-09-29", ip: "denied", coordinator: "denied"), E.appeal("2025-10-10"), E.forwarded("2025-10-20"),
            E.appealDecided("2026-03-16"),
        ]
        // While denied: nothing of the two, though both fell due (meetings by 2026-03-09, transition from 2026-02-28).
        for day in ["2026-03-01", "2026-03-10", "2026-03-15"] {
            #expect(open(.meetingOverdue, on: day, history).isEmpty, "\(day)")
            #expect(open(.transitionNotPlanned, on: day, history).isEmpty, "\(day)")
        }
        for rule in [DeviationRule.meetingOverdue, .transitionNotPlanned] {
            let rows = open(rule, on: "2026-03-16", history)
            #expect(rows.count == 1 && rows.first?.since == d("2026-03-16"), "\(rule): \(rows)")
            #expect(open(rule, on: "2026-06-01", history).first?.since == d("2026-03-16"), "\(rule) stays open")
        }
        // …until a meeting and a transition plan.
        let done = history + [E.held("2026-06-10"), E.transition(on: "2026-06-12")]
        #expect(open(.meetingOverdue, on: "2026-06-10", done).isEmpty)
        #expect(open(.meetingOverdue, on: "2026-06-09", done).count == 1)
        #expect(open(.transitionNotPlanned, on: "2026-06-12", done).isEmpty)
        #expect(open(.transitionNotPlanned, on: "2026-06-11", done).count == 1)
        // An appeal that confirms the denial, dismissed or withdrawn, changes nothing
        // (upheld is schema version 1's name for confirmed).
        for outcome in ["confirmed", "upheld", "dismissed", "withdrawn"] {
            let kept = Array(history.dropLast()) + [E.appealDecided("2026-03-16", outcome)]
            #expect(open(.meetingOverdue, on: "2026-04-01", kept).isEmpty, "\(outcome)")
            #expect(open(.transitionNotPlanned, on: "2026-04-01", kept).isEmpty, "\(outcome)")
        }
        // A quashed decision goes back to the municipality: the rules apply again, as after a reversal.
        let quashed = Array(history.dropLast()) + [E.appealDecided("2026-03-16", "quashed")]
        #expect(open(.meetingOverdue, on: "2026-06-01", quashed) == open(.meetingOverdue, on: "2026-06-01", history))
        #expect(!open(.meetingOverdue, on: "2026-06-01", quashed).isEmpty)
        #expect(open(.meetingOverdue, on: "2026-03-15", quashed).isEmpty)
        #expect(open(.meetingOverdue, on: "2026-03-16", quashed).first?.since == d("2026-03-16"))
    }

    /// The boundary scenarios of the rules a denial stops, with a denial the
    /// day after their history (before the deviation's `since`).
    static let stoppedByADenial = boundaries.filter { b in
        !DeviationRule.survivingDenial.contains(b.rule) && b.rule != .decisionOverdue  // a decision ends that one for real
            && b.history.map(\.1).max()!.adding(days: 1) < d(b.since)
    }

    @Test func everyRuleADenialStopsIsTested() {
        let tested = Set(Self.stoppedByADenial.map(\.rule))
        let stopped = Set(DeviationRule.allCases).subtracting(DeviationRule.survivingDenial).subtracting([.decisionOverdue])
        // planWorkWithoutConsent opens on the day of its own event, so no denial can come before its since.
        #expect(stopped.subtracting(tested) == [.planWorkWithoutConsent], "\(stopped.subtracting(tested))")
    }

    /// Reversed after the deadline: not open while denied, open from the reversal's day.
    @Test(arguments: stoppedByADenial)
    func reversedAfterItsDeadlineItOpensOnTheReversal(_ b: Boundary) throws {
        let denial = b.history.map(\.1).max()!.adding(days: 1)
        let reversal = d(b.since).adding(days: 10)
        let events = b.history + [E.decision(denial.description, ip: "denied", coordinator: "denied"),
                                  E.appeal(denial.adding(days: 1).description), E.appealDecided(reversal.description)]
        #expect(open(b.rule, ref: b.ref, on: b.since, events, trainings: b.trainings).isEmpty, "open on its own since while denied")
        #expect(open(b.rule, ref: b.ref, on: reversal.adding(days: -1).description, events, trainings: b.trainings).isEmpty)
        let rows = open(b.rule, ref: b.ref, on: reversal.description, events, trainings: b.trainings)
        #expect(rows.count == 1 && rows.first?.since == reversal, "\(rows)")
        // The awaited event ends it as before.
        let ending = try #require(b.ending)
        let endDay = reversal.adding(days: 5)
        let ended = events + [ending(endDay.description)]
        #expect(open(b.rule, ref: b.ref, on: endDay.description, ended, trainings: b.trainings).isEmpty)
        #expect(open(b.rule, ref: b.ref, on: endDay.adding(days: -1).description, ended, trainings: b.trainings).count == 1)
    }

    /// Reversed before the deadline: it opens on its own day, as if never stopped.
    @Test(arguments: stoppedByADenial.filter { b in b.history.map(\.1).max()!.adding(days: 3) < d(b.since) })
    func reversedBeforeItsDeadlineItOpensOnItsOwnDay(_ b: Boundary) {
        let denial = b.history.map(\.1).max()!.adding(days: 1)
        let reversal = d(b.since).adding(days: -1)
        let events = b.history + [E.decision(denial.description, ip: "denied", coordinator: "denied"),
                                  E.appeal(denial.adding(days: 1).description), E.appealDecided(reversal.description)]
        #expect(open(b.rule, ref: b.ref, on: reversal.description, events, trainings: b.trainings).isEmpty)
        let rows = open(b.rule, ref: b.ref, on: b.since, events, trainings: b.trainings)
        #expect(rows.count == 1 && rows.first?.since == d(b.since), "\(rows)")
    }

    /// What a denial stopped, and what resumed after it, are stored in the
    /// read model's compact form and come back exactly.
    @Test func theStoppedAndResumedIntervalsAreStored() throws {
        let denied = E.active + [E.decision("2026-03-01", ip: "denied", coordinator: "denied"), E.appeal("2026-03-05")]
        let whileDenied = DeviationTracker.fold(denied)
        #expect(!whileDenied.stoppedByDenial.isEmpty)
        let reversed = DeviationTracker.fold(denied + [E.appealDecided("2026-09-01")])
        #expect(reversed.stoppedByDenial.isEmpty && reversed.intervals.contains { $0.notBefore == d("2026-09-01") })
        for tracker in [whileDenied, reversed] {
            #expect(try tracker.compactBytes.withUnsafeBytes { try DeviationTracker(compactBytes: $0) } == tracker)
        }
    }

    /// A case closed while denied: what the denial stopped never comes back.
    @Test func closingADeniedCaseEndsWhatTheDenialStopped() {
        let history = E.active + [E.decision("2026-03-01", ip: "denied", coordinator: "denied"), E.closed("2026-03-05"),
                                  E.appeal("2026-03-10"), E.appealDecided("2026-09-01")]
        #expect(open(.meetingOverdue, on: "2026-09-01", history).isEmpty)
    }
}
