import Foundation
import Testing

/// One envelope line.
func line(_ stream: String, _ type: String, _ data: String, occurredOn: String? = nil, id: String? = nil) -> String {
    var parts = [#""stream":"\#(stream)""#, #""type":"\#(type)""#]
    if let occurredOn { parts.append(#""occurredOn":"\#(occurredOn)""#) }
    if let id { parts.append(#""eventId":"\#(id)""#) }
    parts.append(#""data":\#(data)"#)
    return "{" + parts.joined(separator: ",") + "}"
}

let personA = personID(day: 14, month: 3, year: 1985, individual: 123) ?? personID(day: 14, month: 3, year: 1985, individual: 124)!
let personB = personID(day: 2, month: 7, year: 2010, individual: 612) ?? personID(day: 2, month: 7, year: 2010, individual: 613)!

enum Line {
    static func registered(_ id: String) -> String {
        line("coordinator-\(id)", "CoordinatorRegistered", #"{"coordinatorId":"\#(id)","name":"Kari Nordmann","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2025-01-02"}"#)
    }
    static let deactivated2 = line("coordinator-0002", "CoordinatorDeactivated", #"{"deactivatedOn":"2025-06-01"}"#)
    static func application(_ stream: String = "case-000001", person: String = personA, on date: String = "2026-01-05") -> String {
        line(stream, "ApplicationReceived", #"{"personId":"\#(person)","receivedOn":"\#(date)","requested":["individualPlan","coordinator"],"origin":"application","unit":"Hjemmetjenesten"}"#)
    }
    static let assessment = line("case-000001", "AssessmentCompleted", #"{"completedOn":"2026-01-20","longTermNeed":true,"services":["hjemmesykepleie","fysioterapi"],"residesInMunicipality":true,"wantsIndividualPlan":true}"#)
    static func consent(_ scope: String = #"["individualPlan","coordinator"]"#) -> String {
        line("case-000001", "ConsentGiven", #"{"givenOn":"2026-01-20","scope":\#(scope),"givenBy":"person"}"#)
    }
    static func decision(ip: String = "granted", coordinator: String = "granted") -> String {
        line("case-000001", "DecisionMade", #"{"decidedOn":"2026-02-01","individualPlan":"\#(ip)","coordinator":"\#(coordinator)","childCoordinator":"notRequested","grounds":"Vilkårene er oppfylt","decidedBy":"caseworker-01"}"#)
    }
    static func appoint(_ id: String = "0001", on date: String = "2026-02-10") -> String {
        line("case-000001", "CoordinatorAppointed", #"{"coordinatorId":"\#(id)","appointedOn":"\#(date)"}"#)
    }
    static let release = line("case-000001", "CoordinatorReleased", #"{"coordinatorId":"0001","releasedOn":"2026-05-01","reason":"Permisjon"}"#)
    static func member(_ id: String) -> String {
        line("case-000001", "GroupMemberAdded", #"{"memberId":"\#(id)","role":"fastlege","organisation":"Legekontoret","addedOn":"2026-02-11"}"#)
    }
    static let schedule = line("case-000001", "MeetingScheduled", #"{"meetingId":"m-1","scheduledFor":"2026-03-01"}"#, occurredOn: "2026-02-12")
    static func held(_ id: String = "m-1", on date: String = "2026-03-01") -> String {
        line("case-000001", "MeetingHeld", #"{"meetingId":"\#(id)","heldOn":"\#(date)","attendees":["coordinator-0001"],"minutesWritten":false,"actionItems":[]}"#)
    }
    static func minutes(_ id: String) -> String {
        line("case-000001", "MinutesWritten", #"{"meetingId":"\#(id)","writtenOn":"2026-03-04"}"#)
    }
    static let plan = line("case-000001", "PlanEstablished", #"{"establishedOn":"2026-03-05","goals":[{"goalId":"goal-1","description":"Bo trygt hjemme","horizon":"long"}],"measures":[],"nextEvaluationDue":"2026-09-05"}"#)
    static let goal = line("case-000001", "GoalAdded", #"{"goalId":"goal-2","description":"Gå tur","horizon":"short","addedOn":"2026-04-01"}"#)
    static let close = line("case-000001", "PlanClosed", #"{"closedOn":"2026-10-01","reason":"needEnded"}"#)
    static func deviation(on date: String) -> String {
        line("case-000001", "DeviationReported", #"{"deviationId":"d-1","reportedOn":"\#(date)","category":"dokumentasjon","description":"Referat mangler"}"#)
    }
    static let meetingScheduled2 = line("case-000001", "MeetingScheduled", #"{"meetingId":"m-2","scheduledFor":"2026-12-01"}"#, occurredOn: "2026-10-02")

    /// Coordinators, and a case with an application, an assessment, consent and a decision.
    static let decided = [registered("0001"), registered("0002"), deactivated2, registered("0003"),
                          application(), assessment, consent(), decision()]
    static let active = decided + [appoint(), member("g-1"), schedule]
}

struct RuleCase: CustomTestStringConvertible, Sendable {
    var name: String
    var prefix: [String]
    var accepted: String
    var refused: String
    var code: String
    var testDescription: String { name }
}

let ruleCases: [RuleCase] = [
    RuleCase(name: "caseNotOpen", prefix: [], accepted: Line.application(), refused: Line.assessment, code: "caseNotOpen"),
    RuleCase(name: "caseAlreadyOpen", prefix: [Line.application()], accepted: Line.assessment,
             refused: Line.application(person: personB), code: "caseAlreadyOpen"),
    RuleCase(name: "personHasOpenCase", prefix: [Line.application()], accepted: Line.application("case-000002", person: personB),
             refused: Line.application("case-000002"), code: "personHasOpenCase"),
    RuleCase(name: "caseClosed", prefix: Line.active + [Line.close], accepted: Line.deviation(on: "2026-10-02"),
             refused: Line.meetingScheduled2, code: "caseClosed"),
    RuleCase(name: "assessmentRequired", prefix: [Line.application()], accepted: Line.consent(),
             refused: Line.decision(), code: "assessmentRequired"),
    RuleCase(name: "consentRequired (plan)", prefix: Line.decided.filter { !$0.contains("ConsentGiven") } + [Line.consent(#"["coordinator"]"#), Line.appoint()],
             accepted: Line.member("g-1"), refused: Line.plan, code: "consentRequired"),
    RuleCase(name: "consentRequired (coordinator)", prefix: Line.decided.filter { !$0.contains("ConsentGiven") },
             accepted: Line.consent(), refused: Line.appoint(), code: "consentRequired"),
    RuleCase(name: "decisionRequired (plan)", prefix: Array(Line.decided.dropLast()) + [Line.decision(ip: "denied")],
             accepted: Line.appoint(), refused: Line.plan, code: "decisionRequired"),
    RuleCase(name: "decisionRequired (coordinator)", prefix: Array(Line.decided.dropLast()),
             accepted: Line.decision(), refused: Line.appoint(), code: "decisionRequired"),
    RuleCase(name: "planRequired", prefix: Line.active, accepted: Line.plan, refused: Line.goal, code: "planRequired"),
    RuleCase(name: "coordinatorUnavailable (deactivated)", prefix: Line.decided, accepted: Line.appoint("0001"),
             refused: Line.appoint("0002"), code: "coordinatorUnavailable"),
    RuleCase(name: "coordinatorUnavailable (not registered)", prefix: Line.decided, accepted: Line.appoint("0003"),
             refused: Line.appoint("0009"), code: "coordinatorUnavailable"),
    RuleCase(name: "coordinatorAlreadyActive", prefix: Line.active, accepted: Line.release,
             refused: Line.appoint("0003", on: "2026-03-01"), code: "coordinatorAlreadyActive"),
    RuleCase(name: "coordinatorRequired", prefix: Line.decided + [Line.schedule], accepted: Line.appoint(),
             refused: Line.held(), code: "coordinatorRequired"),
    RuleCase(name: "unknownReference", prefix: Line.active, accepted: Line.minutes("m-1"),
             refused: Line.minutes("m-9"), code: "unknownReference"),
    RuleCase(name: "duplicateId", prefix: Line.active, accepted: Line.member("g-2"),
             refused: Line.member("g-1"), code: "duplicateId"),
    // Rule 10 at its boundaries: today (2026-11-23) is allowed, tomorrow is not;
    // the day the case was received is allowed, the day before is not.
    RuleCase(name: "dateOutOfRange (after today)", prefix: Line.active, accepted: Line.held(on: "2026-11-23"),
             refused: Line.held(on: "2026-11-24"), code: "dateOutOfRange"),
    RuleCase(name: "dateOutOfRange (before the case)", prefix: Line.active, accepted: Line.deviation(on: "2026-01-05"),
             refused: Line.deviation(on: "2026-01-04"), code: "dateOutOfRange"),
]

struct RuleTests {
    @Test(arguments: ruleCases)
    func eachRuleAcceptsOneHistoryAndRefusesAnother(rule: RuleCase) throws {
        let box = try Sandbox()
        let good = try box.write("good.jsonl", rule.prefix + [rule.accepted])
        let accepted = try box.iplog(["import", good])
        #expect(accepted.status == 0, "\(accepted.stderr)")

        let refusedStore = box.directory + "/refused"
        let bad = try box.write("bad.jsonl", rule.prefix + [rule.refused])
        let refused = try box.iplog(["import", bad, "--json"], store: refusedStore)
        #expect(refused.status == 3)
        #expect(refused.stderr.hasPrefix("[\(rule.code)] line \(rule.prefix.count + 1): "), "\(refused.stderr)")
        let error = (refused.json as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == rule.code && error?["line"] as? Int == rule.prefix.count + 1)
        // Nothing from the refused line on was written.
        let stats = try box.iplog(["stats", "--json"], store: refusedStore).json as? [String: Any]
        #expect(stats?["events"] as? Int == rule.prefix.count)
    }

    @Test func appendRefusesWithExitThreeAndWritesNothing() throws {
        let box = try Sandbox()
        let file = try box.write("base.jsonl", Line.active)
        #expect(try box.iplog(["import", file]).status == 0)
        let run = try box.iplog(["append", "--create", "--stream", "case-000001", "--type", "GoalAdded", "--data",
                                 #"{"goalId":"goal-2","description":"Gå tur","horizon":"short","addedOn":"2026-04-01"}"#])
        #expect(run.status == 3)
        #expect(run.stderr == "[planRequired] case-000001: GoalAdded needs a PlanEstablished first\n")
        #expect((try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int == Line.active.count)
    }

    @Test func shapeErrorsExitTwoBeforeAnyRule() throws {
        let box = try Sandbox()
        let badPerson = Line.application().replacingOccurrences(of: personA, with: "14038512345")
        for (text, prefix) in [(badPerson, "[invalidPersonId] line 1: field data.personId"),
                               (Line.assessment.replacingOccurrences(of: "2026-01-20", with: "2026-02-30"), "[invalidDate] line 1: field"),
                               (Line.assessment.replacingOccurrences(of: "AssessmentCompleted", with: "Assessment"), "[invalidShape] line 1: field type")] {
            let file = try box.write("bad.jsonl", [text])
            let run = try box.iplog(["import", file])
            #expect(run.status == 2)
            #expect(run.stderr.hasPrefix(prefix), "\(run.stderr)")
        }
        // The refusal never echoes the person id.
        let run = try box.iplog(["import", try box.write("p.jsonl", [badPerson])])
        #expect(!run.stderr.contains("14038512345"))
    }

    @Test func lenientImportTakesHistoryThatBreaksTheRules() throws {
        let box = try Sandbox()
        let file = try box.write("migrated.jsonl", [Line.application(), Line.plan, Line.appoint("0009")])
        #expect(try box.iplog(["import", file]).status == 3)
        let lenient = try box.iplog(["import", file, "--lenient", "--json"])
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect((lenient.json as? [String: Any])?["imported"] as? Int == 3)
        // Shape is still checked.
        let bad = try box.write("bad.jsonl", [Line.application().replacingOccurrences(of: personA, with: "12345678901")])
        #expect(try box.iplog(["import", bad, "--lenient"], store: box.directory + "/other").status == 2)
    }

    @Test func twoProcessesOpeningACaseForTheSamePersonAtOnceOneSucceeds() throws {
        for round in 0..<4 {
            let box = try Sandbox()
            #expect(try box.iplog(["append", "--create", "--stream", "coordinator-0001", "--type", "CoordinatorRegistered", "--data",
                                   #"{"coordinatorId":"0001","name":"A B","unit":"U","profession":"P","registeredOn":"2025-01-02"}"#]).status == 0)
            let data = #"{"personId":"\#(personA)","receivedOn":"2026-01-05","requested":["coordinator"],"origin":"application","unit":"U"}"#
            let first = try box.start(["append", "--create", "--stream", "case-a\(round)", "--type", "ApplicationReceived", "--data", data])
            let second = try box.start(["append", "--create", "--stream", "case-b\(round)", "--type", "ApplicationReceived", "--data", data])
            first.waitUntilExit()
            second.waitUntilExit()
            let statuses = [first.terminationStatus, second.terminationStatus].sorted()
            #expect(statuses == [0, 3], "round \(round)")
            let cases = lines(try box.iplog(["export"]).stdout).filter { $0.contains("ApplicationReceived") }
            #expect(cases.count == 1)
        }
    }
}

struct HistoryCommandTests {
    @Test func replaysACaseWithTheStateAfterEachEventMaskedAndVerified() throws {
        let box = try Sandbox()
        let file = try box.write("case.jsonl", Line.active + [Line.held(), Line.plan])
        #expect(try box.iplog(["import", file]).status == 0)
        let human = try box.iplog(["history", "case-000001"])
        #expect(human.status == 0)
        #expect(!human.stdout.contains(personA))
        #expect(human.stdout.contains(String(personA.prefix(6)) + "*****"))
        #expect(human.stdout.contains("now:  status active; coordinatorId 0001"))
        #expect(human.stdout.contains("Hash chain verified for all 9 events shown."))
        #expect(try box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA))

        let json = try box.iplog(["history", "case-000001", "--json", "--as-of", "2026-02-01"]).json as? [String: Any]
        let events = json?["events"] as? [[String: Any]]
        #expect(events?.count == 4 && json?["chainVerified"] as? Bool == true)
        let last = events?.last
        #expect(last?["type"] as? String == "DecisionMade" && last?["version"] as? Int == 4)
        #expect((last?["state"] as? [String: Any])?["status"] as? String == "decided")
        for key in ["position", "occurredOn", "recordedAt", "actor", "data"] { #expect(last?[key] != nil) }

        let missing = try box.iplog(["history", "case-999999"])
        #expect(missing.status == 2 && missing.stderr.hasPrefix("[unknownStream]"))
    }
}
