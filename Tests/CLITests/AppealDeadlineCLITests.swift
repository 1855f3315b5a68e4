import EventLog
import Foundation
import JSON
import Testing

/// The appeal deadline (pbrl §7-5) as the case office meets it: `case`,
/// `cases --appeal-late` and the audit replay.
struct AppealDeadlineCLITests {
    static func decidedCase(_ stream: String, person: String, sentOn: String, appealOn: String) -> [String] {
        [
            Line.application(stream, person: person),
            line(stream, "AssessmentCompleted", #"{"completedOn":"2026-01-20","longTermNeed":true,"services":["hjemmesykepleie","fysioterapi"],"residesInMunicipality":true,"wantsIndividualPlan":true}"#),
            line(stream, "DecisionMade", #"{"decidedOn":"2026-02-01","individualPlan":"denied","coordinator":"denied","childCoordinator":"notRequested","grounds":"Vilkårene er ikke oppfylt","decidedBy":"caseworker-01"}"#),
            line(stream, "DecisionSent", #"{"sentOn":"\#(sentOn)","channel":"post","appealInformationIncluded":true}"#),
            line(stream, "AppealReceived", #"{"receivedOn":"\#(appealOn)","grounds":"Uenig i vurderingen"}"#),
        ]
    }

    @Test func aLateAppealIsShownAndListedForTheCaseOfficeToCheck() throws {
        let box = try Sandbox()
        let lines = Self.decidedCase("case-000001", person: personA, sentOn: "2026-02-02", appealOn: "2026-03-03")  // day 29
            + Self.decidedCase("case-000002", person: personB, sentOn: "2026-02-02", appealOn: "2026-03-02")     // day 28
        let imported = try box.iplog(["import", try box.write("in.jsonl", lines)])
        #expect(imported.status == 0, "\(imported.stderr)")

        func appeals(_ stream: String) throws -> [[String: Any]] {
            (try box.iplog(["case", stream, "--json"]).json as? [String: Any])?["appeals"] as? [[String: Any]] ?? []
        }
        let late = try appeals("case-000001"), onTime = try appeals("case-000002")
        #expect(late.first?["late"] as? Bool == true && late.first?["daysSinceDecisionSent"] as? Int == 29, "\(late)")
        #expect(onTime.first?["late"] as? Bool == false && onTime.first?["daysSinceDecisionSent"] as? Int == 28, "\(onTime)")
        let text = try box.iplog(["case", "case-000001"]).stdout
        #expect(text.contains("29 days after the decision was sent (LATE"), "\(text)")

        let listed = (try box.iplog(["cases", "--appeal-late", "--json"]).json as? [String: Any])?["cases"] as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["stream"] as? String } == ["case-000001"])
        let all = (try box.iplog(["cases", "--json"]).json as? [String: Any])?["cases"] as? [[String: Any]] ?? []
        #expect(all.map { $0["appealLate"] as? Bool } == [true, false])

        // The audit replay: the state after the AppealReceived carries it.
        let history = try #require(try box.iplog(["history", "case-000001", "--json"]).json as? [String: Any])
        let events = history["events"] as? [[String: Any]] ?? []
        let afterAppeal = try #require(events.last { $0["type"] as? String == "AppealReceived" })
        let state = afterAppeal["state"] as? [String: Any] ?? afterAppeal
        let shown = (state["appeals"] as? [[String: Any]])?.first
        #expect(shown?["late"] as? Bool == true, "\(afterAppeal)")
    }
}

/// `AppealDecided` schema version 2 through the command line: an event a store
/// wrote in version 1 (`upheld`) is shown and exported in version 2, and the
/// export imports again.
struct AppealDecidedVersionCLITests {
    @Test func aVersionOneEventIsShownAndExportedAsVersionTwo() throws {
        let box = try Sandbox()
        let lines = AppealDeadlineCLITests.decidedCase("case-000001", person: personA, sentOn: "2026-02-02", appealOn: "2026-02-20")
        #expect(try box.iplog(["import", try box.write("in.jsonl", lines)]).status == 0)
        // Written as version 0.10 wrote it: schema version 1, `upheld` (the catalogue of
        // this version would store `confirmed` at version 2).
        do {
            let store = try EventStore(directory: box.store)
            var accept = AcceptAll()
            try store.append(ProposedEvent(stream: "case-000001", type: "AppealDecided", schemaVersion: 1, occurredOn: BusinessDate(iso: "2026-03-20")!,
                                           payload: .object(["decidedOn": "2026-03-20", "decidedBy": "municipality", "outcome": "upheld"])), policy: &accept)
        }
        let history = try box.iplog(["history", "case-000001", "--json", "--actor", "test"])
        let events = (history.json as? [String: Any])?["events"] as? [[String: Any]] ?? []
        let shown = events.last?["data"] as? [String: Any]
        #expect(shown?["outcome"] as? String == "confirmed", "\(history.stdout.suffix(400))")
        #expect((events.last?["state"] as? [String: Any])?["status"] as? String == "denied")  // confirmed: the denial stands

        let export = try box.iplog(["export", "--actor", "test"])
        let last = try #require(export.stdout.split(separator: "\n").last.flatMap { try? JSONParser.parse(Array($0.utf8)) })
        #expect(last["schemaVersion"]?.int64Value == 2 && last["data"]?["outcome"] == "confirmed", "\(last)")
        // The export imports into a new store, where the event is version 2.
        let again = try box.iplog(["import", try box.write("export.jsonl", export.stdout.split(separator: "\n").map(String.init))],
                                  store: box.directory + "/again")
        #expect(again.status == 0, "\(again.stderr)")
        let reread = try EventStore(directory: box.directory + "/again").read(stream: "case-000001").last
        let payload = try reread?.payload()
        #expect(reread?.schemaVersion == 2 && payload?["outcome"] == "confirmed")
    }
}
