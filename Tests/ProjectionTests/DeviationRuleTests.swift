import Deviations
import Domain
import EventLog
import Testing

/// A deviation scenario: a history, the day the deviation should open, and
/// (optionally) the event that ends it.
struct Boundary: CustomTestStringConvertible, Sendable {
    var rule: DeviationRule
    var name: String
    var history: [Dated]
    var since: String
    var ref: String?
    /// The day the awaited event happens, and the event for a given day.
    var endOn: String?
    var ending: (@Sendable (String) -> Dated)?
    var trainings: [String: [BusinessDate]] = [:]
    var testDescription: String { "\(rule.rawValue): \(name)" }
}


let boundaries: [Boundary] = [
    Boundary(rule: .preliminaryReplyMissing, name: "1 month from 31 January ends on 28 February",
             history: [E.application("2026-01-31")], since: "2026-03-01", endOn: "2026-03-03", ending: { E.reply($0, expected: "2026-04-01") }),
    Boundary(rule: .preliminaryReplyMissing, name: "a leap year's February", history: [E.application("2024-01-31")],
             since: "2024-03-01", endOn: "2024-03-02", ending: { E.letter($0) }),
    Boundary(rule: .decisionOverdue, name: "8 weeks", history: [E.application("2026-01-05"), E.assessment("2026-01-20")],
             since: "2026-03-03", endOn: "2026-03-10", ending: { E.decision($0) }),
    Boundary(rule: .decisionOverdue, name: "a preliminary reply moves the deadline",
             history: [E.application("2026-01-05"), E.reply("2026-01-20", expected: "2026-03-20")],
             since: "2026-03-21", endOn: "2026-03-25", ending: { E.decision($0) }),
    Boundary(rule: .appealInformationMissing, name: "at once", history: E.granted.dropLast() + [E.letter("2026-02-02", informed: false)],
             since: "2026-02-02", endOn: "2026-02-10", ending: { E.letter($0) }),
    Boundary(rule: .appealOverdue, name: "4 weeks into a leap day", history: [E.application("2024-01-02"), E.appeal("2024-01-31")],
             since: "2024-02-29", endOn: "2024-03-05", ending: { E.forwarded($0) }),
    Boundary(rule: .coordinatorNotOffered, name: "at once", history: [
        E.application("2026-01-05"), E.assessment("2026-01-20"), E.decision("2026-02-01", ip: "denied", coordinator: "notRequested")],
             since: "2026-02-01", endOn: "2026-02-15", ending: { E.decision($0, ip: "denied", coordinator: "granted") }),
    Boundary(rule: .coordinatorNotAppointed, name: "14 days", history: E.granted, since: "2026-02-16", endOn: "2026-02-20", ending: { E.appoint($0) }),
    Boundary(rule: .coordinatorMissing, name: "14 days after a release", history: E.active + [E.release("2026-05-01")],
             since: "2026-05-16", ref: "0001", endOn: "2026-05-20", ending: { E.appoint($0, "0002") },
             trainings: ["0001": [d("2025-01-01")], "0002": [d("2025-01-01")]]),
    Boundary(rule: .coordinatorUntrained, name: "3 months from 30 November ends on 28 February",
             history: E.granted.map { ($0.0, $0.1.adding(days: -90)) } + [E.appoint("2025-11-30")],
             since: "2026-03-01", ref: "0001", endOn: "2026-03-04", ending: { E.release($0) }),
    Boundary(rule: .planNotEstablished, name: "8 weeks from the later of grant and consent", history: [
        E.application("2026-01-05"), E.assessment("2026-01-20"), E.decision("2026-02-01"), E.consent("2026-02-10")],
             since: "2026-04-08", endOn: "2026-04-10", ending: { E.plan($0, due: "2026-10-01") }),
    Boundary(rule: .planNotEstablished, name: "withdrawn consent ends it", history: [
        E.application("2026-01-05"), E.assessment("2026-01-20"), E.decision("2026-02-01"), E.consent("2026-02-10")],
             since: "2026-04-08", endOn: "2026-04-12", ending: { E.withdraw($0) }),
    Boundary(rule: .planIncomplete, name: "30 days without a next evaluation", history: E.active + [E.plan("2026-03-05")],
             since: "2026-04-05", endOn: "2026-04-10", ending: { E.evaluated($0, next: "2026-10-10") }),
    Boundary(rule: .meetingOverdue, name: "6 months from the group's first member", history: E.active,
             since: "2026-08-12", endOn: "2026-08-20", ending: { E.held($0) }),
    Boundary(rule: .meetingOverdue, name: "6 months from the last meeting; removing the last member ends it",
             history: E.active + [E.held("2026-02-28")], since: "2026-08-29", endOn: "2026-09-01", ending: { E.removeMember($0) }),
    Boundary(rule: .minutesMissing, name: "7 days", history: E.active + [E.held("2026-03-01", minutes: false)],
             since: "2026-03-09", ref: "m-1", endOn: "2026-03-12", ending: { E.minutes($0) }),
    Boundary(rule: .actionItemOverdue, name: "the day after dueOn", history: E.active + [E.held("2026-03-01", items: [("a-1", "2026-04-01")])],
             since: "2026-04-02", ref: "a-1", endOn: "2026-04-05", ending: { E.completed($0, "a-1") }),
    Boundary(rule: .evaluationOverdue, name: "the day after nextEvaluationDue", history: E.active + [E.plan("2026-03-05", due: "2026-09-05")],
             since: "2026-09-06", endOn: "2026-09-10", ending: { E.evaluated($0, next: "2027-03-10") }),
    Boundary(rule: .transitionNotPlanned, name: "six months before 18", history: [E.application("2026-01-05", person: child)],
             since: "2026-09-14", endOn: "2026-09-20", ending: { E.transition(on: $0) }),
    Boundary(rule: .planWorkWithoutConsent, name: "plan work before consent (lenient history)", history: [
        E.application("2026-01-05"), E.assessment("2026-01-20"), E.consent("2026-01-20", #"["coordinator"]"#), E.decision("2026-02-01"),
        E.appoint("2026-02-10"), E.plan("2026-03-05", due: "2026-09-05")],
             since: "2026-03-05", endOn: "2026-03-10", ending: { E.consent($0) }),
    Boundary(rule: .reportedDeviation, name: "at once", history: E.active + [E.reported("2026-04-01")],
             since: "2026-04-01", ref: "d-1", endOn: "2026-04-20", ending: { E.resolved($0) }),
]

struct DeviationRuleTests {
    @Test func everyRuleHasABoundaryTest() {
        #expect(Set(boundaries.map(\.rule)) == Set(DeviationRule.allCases))
    }

    /// The deadline day: not open. The day after: open, with `since` that day.
    /// The day the awaited event happens: no longer open (and the day before it, still open).
    @Test(arguments: boundaries)
    func opensTheDayAfterTheDeadlineAndEndsOnTheAwaitedEvent(_ b: Boundary) throws {
        let since = d(b.since)
        func matching(_ rows: [DeviationRow]) -> [DeviationRow] { rows.filter { $0.rule == b.rule && (b.ref == nil || $0.ref == b.ref) } }
        let dayBefore = since.adding(days: -1).description
        #expect(matching(openOn(dayBefore, b.history, trainings: b.trainings)).isEmpty, "open on \(dayBefore)")
        let onDay = matching(openOn(b.since, b.history, trainings: b.trainings))
        #expect(onDay.count == 1 && onDay.first?.since == since && onDay.first?.daysOpen == 1, "\(onDay)")
        let later = since.adding(days: 30).description
        #expect(matching(openOn(later, b.history, trainings: b.trainings)).first?.daysOpen == 31)
        let ending = try #require(b.ending, "every boundary names the event that ends it")
        let endOn = try #require(b.endOn)
        let ended = b.history + [ending(endOn)]
        let endDay = d(endOn)
        #expect(matching(openOn(endDay.description, ended, trainings: b.trainings)).isEmpty, "still open on \(endDay)")
        #expect(matching(openOn(endDay.adding(days: -1).description, ended, trainings: b.trainings)).count == 1, "not open the day before \(endDay)")
        // The report of those that ended lists it with how long it was open.
        let closed = DeviationReport.closed(DeviationTracker.fold(ended), stream: "case-000001", from: endDay, to: endDay, config: .defaults) { b.trainings[$0] ?? [] }
        #expect(matching(closed).first?.daysOpen == since.days(until: endDay))
    }

    /// The boundaries whose deadline day comes after their history, where the
    /// awaited event can be dated on it (not the rules "at once", which open on
    /// the day of their own event).
    static let endableBeforeTheDeadline = boundaries.filter { b in
        b.ending != nil && d(b.since).adding(days: -1) >= b.history.map(\.1).max()!
    }

    @Test func theRulesLeftOutOfTheNeverOpensTestAreThoseAtOnce() {
        let left = Set(boundaries.map(\.rule)).subtracting(Self.endableBeforeTheDeadline.map(\.rule))
        #expect(left == [.appealInformationMissing, .coordinatorNotOffered, .planWorkWithoutConsent, .reportedDeviation], "\(left)")
    }

    @Test(arguments: endableBeforeTheDeadline)
    func theAwaitedEventBeforeTheDeadlineMeansItNeverOpens(_ b: Boundary) throws {
        let ending = try #require(b.ending)
        // The same ending event dated on the deadline day itself: never open.
        let history = b.history + [ending(d(b.since).adding(days: -1).description)]
        for day in [b.since, d(b.since).adding(days: 100).description] {
            #expect(openOn(day, history, trainings: b.trainings).filter { $0.rule == b.rule && (b.ref == nil || $0.ref == b.ref) }.isEmpty)
        }
    }
}

struct DeviationSemanticsTests {
    /// Each kind of plan work (the tracker reads, for these events only,
    /// whether the plan was allowed before them): none opens
    /// planWorkWithoutConsent while an IP is granted and consented to, and
    /// each opens it on its own day once the consent is withdrawn.
    @Test(arguments: [
        E.plan("2026-03-10", due: "2026-09-05"),
        e("GoalAdded", #"{"goalId":"goal-2","description":"x","horizon":"short","addedOn":"2026-03-10"}"#),
        e("MeasureAdded", #"{"measureId":"me-2","description":"x","responsible":"g-1","addedOn":"2026-03-10"}"#),
        e("GoalAchieved", #"{"goalId":"goal-1","achievedOn":"2026-03-10"}"#),
        E.evaluated("2026-03-10", next: "2026-09-10"),
    ])
    func everyKindOfPlanWorkNeedsTheConsentInForce(_ work: Dated) {
        let established = work.0.kind == .planEstablished ? [] : [E.plan("2026-03-01", due: "2026-09-05")]
        func planWork(_ history: [Dated]) -> [DeviationRow] {
            openOn("2026-03-10", history + [work]).filter { $0.rule == .planWorkWithoutConsent }
        }
        #expect(planWork(E.active + established).isEmpty, "\(work.0.kind)")
        let withdrawn = planWork(E.active + established + [E.withdraw("2026-03-05")])
        #expect(withdrawn.count == 1 && withdrawn.first?.since == d("2026-03-10"), "\(work.0.kind): \(withdrawn)")
    }

    @Test func untrainedDependsOnTheCoordinatorsTrainingAsOfTheReportDate() {
        let history = E.granted.map { ($0.0, $0.1.adding(days: -90)) } + [E.appoint("2025-11-30")]
        // Trained on the appointment day: never untrained.
        #expect(openOn("2026-04-01", history, trainings: ["0001": [d("2025-11-30")]]).filter { $0.rule == .coordinatorUntrained }.isEmpty)
        // Trained later: open from 2026-03-01 until the training, which the report sees only from its date on.
        let trainings = ["0001": [d("2026-03-10")]]
        #expect(openOn("2026-03-09", history, trainings: trainings).contains { $0.rule == .coordinatorUntrained })
        #expect(!openOn("2026-03-10", history, trainings: trainings).contains { $0.rule == .coordinatorUntrained })
    }

    @Test func closingEndsAllButThreeAndOnlyThoseThreeStartAfter() {
        let history = E.active + [E.held("2026-03-01", minutes: false, items: [("a-1", "2026-03-20")]), E.reported("2026-03-02"),
                                  E.appeal("2026-03-03"), E.closed("2026-03-05")]
        let open = openOn("2026-06-01", history)
        #expect(Set(open.map(\.rule)) == [.reportedDeviation, .appealOverdue])
        // After closure: a late letter without appeal information still opens one; nothing else starts.
        let after = history + [E.letter("2026-03-06", informed: false)]
        #expect(Set(openOn("2026-06-01", after).map(\.rule)) == [.reportedDeviation, .appealOverdue, .appealInformationMissing])
        // minutesMissing would have opened 2026-03-09: closing on 2026-03-05 means it never did.
        #expect(DeviationReport.closed(DeviationTracker.fold(history), stream: "c", from: d("2026-01-01"), to: d("2026-12-31"), config: .defaults) { _ in [] }
            .filter { $0.rule == .minutesMissing }.isEmpty)
    }

    @Test func aDenialEndsAllButFiveAndAnAppealReversalRestoresTheRules() {
        let history = [E.application("2026-01-05"), E.assessment("2026-01-20"),
                       E.decision("2026-01-25", ip: "denied", coordinator: "notRequested")]
        // No letter and no reply: preliminaryReplyMissing still opens on 2026-02-06; the denial
        // without a coordinator decision opens coordinatorNotOffered at once.
        let rules = Set(openOn("2026-02-10", history).map(\.rule))
        #expect(rules == [.preliminaryReplyMissing, .coordinatorNotOffered])
        // A reversal and a new grant: the rules apply again (coordinatorNotAppointed).
        let reversed = history + [E.letter("2026-01-26"), E.appeal("2026-02-01"),
                                  e("AppealDecided", #"{"decidedOn":"2026-02-10","decidedBy":"municipality","outcome":"reversed"}"#),
                                  E.consent("2026-02-12"), E.decision("2026-02-15")]
        #expect(openOn("2026-03-02", reversed).contains { $0.rule == .coordinatorNotAppointed && $0.since == d("2026-03-02") })
    }

    @Test func theConfiguredPeriodDecidesSince() {
        var config = DeviationConfig.defaults
        config.periods[.meetingOverdue] = Period(3, .months)
        #expect(openOn("2026-05-12", E.active, config: config).contains { $0.rule == .meetingOverdue && $0.since == d("2026-05-12") })
        #expect(!openOn("2026-05-11", E.active, config: config).contains { $0.rule == .meetingOverdue })
    }

    @Test func eachRowNamesTheCoordinatorActiveOnTheReportDateAndTheUnit() {
        let history = E.active + [E.held("2026-03-01", items: [("a-1", "2026-03-10")]), E.release("2026-04-01"), E.appoint("2026-04-02", "0002")]
        let before = openOn("2026-03-20", history).first { $0.rule == .actionItemOverdue }
        let after = openOn("2026-04-05", history).first { $0.rule == .actionItemOverdue }
        #expect(before?.coordinatorId == "0001" && after?.coordinatorId == "0002" && after?.unit == "Hjemmetjenesten")
    }

    @Test func periodsParseAndPrint() {
        #expect(Period(text: "8 weeks") == Period(8, .weeks) && Period(text: "1 month") == Period(1, .months))
        #expect(Period(text: "14 days")?.description == "14 days" && Period(1, .months).description == "1 month")
        #expect(Period(text: "soon") == nil && Period(text: "-1 days") == nil)
    }
}
