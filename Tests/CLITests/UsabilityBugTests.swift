import AccessLog
import Foundation
import Testing
@testable import iplog

/// The bugs a trial as a new user found (issue 20), each through the binary.
struct UsabilityBugTests {
    static let registration = #"{"coordinatorId":"0042","name":"Kari Nordmann","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2025-01-02"}"#

    /// A mistyped `--store` on `append` must not start a new, empty log;
    /// `--create` says a new store is meant, and `import` makes one and says so.
    @Test func appendRefusesAMissingStoreUnlessToldToCreateIt() throws {
        let box = try Sandbox()
        let typo = box.directory + "/iplog-stroe"
        let refused = try box.iplog(["append", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", Self.registration], store: typo)
        #expect(refused.status == 1 && refused.stderr.hasPrefix("[noStore] ") && refused.stderr.contains("--create"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo))
        let created = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", Self.registration], store: typo)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try box.iplog(["stats", "--json"], store: typo).stdout.contains(#""events":1"#))
        // A command line argument-parser reads (the payload from standard input) is held to the same.
        let parsed = try box.iplog(["append", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data-file", "-"],
                                   stdin: Self.registration, store: box.directory + "/other")
        #expect(parsed.status == 1 && parsed.stderr.hasPrefix("[noStore] ") && parsed.stderr.contains("--create"), "\(parsed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.directory + "/other"))

        let imported = try box.iplog(["import", try box.write("in.jsonl", registrationLines(2))], store: box.directory + "/new")
        #expect(imported.status == 0 && imported.stderr.contains("Created a new store at"), "\(imported.stderr)")
        let again = try box.iplog(["import", try box.write("in2.jsonl", registrationLines(2, prefix: "x"))], store: box.directory + "/new")
        #expect(again.status == 0 && !again.stderr.contains("Created"), "\(again.stderr)")
    }

    /// The record of an erasure can be found without the person id (which the
    /// operator may no longer have, and the store no longer knows).
    @Test func theErasuresAreListedWithoutAPersonID() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", ErasureTests.closedCase)]).status == 0)
        #expect(try box.iplog(["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute", "--actor", "arkivar"]).status == 0)
        let listed = try box.iplog(["access-log", "--command", "erase", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let entries = (listed.json as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["actor"] as? String == "arkivar" && entries.first?["reason"] as? String == "Oppbevaringstiden er ute")
        #expect(entries.first?["cases"] as? [String] == ["case-000001"])
        #expect(!listed.stdout.contains(personA))
        let text = try box.iplog(["access-log", "--command", "erase", "--from", "2000-01-01"]).stdout
        #expect(text.hasPrefix("1 erasure") && text.contains("case-000001") && text.contains("arkivar"), "\(text)")
        let later = try box.iplog(["access-log", "--command", "erase", "--from", "2999-01-01", "--json"])
        #expect(later.status == 0 && ((later.json as? [String: Any])?["entries"] as? [Any])?.isEmpty == true, "\(later.stdout)")
        // The person's own reads are still asked for by person; neither or both is a usage error.
        #expect(try box.iplog(["access-log"]).status != 0)
        #expect(try box.iplog(["access-log", "--person", personA, "--command", "erase"]).status != 0)
    }

    /// Person ids are masked in every format, JSON included, unless
    /// `--show-person-id` asks for them, and the access log records which;
    /// `export` keeps them in full (it must import again) and records so.
    @Test func jsonMasksPersonIDsUnlessAsked() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", ErasureTests.closedCase)]).status == 0)
        let masked = String(personA.prefix(6)) + "*****"
        for command in [["case", "case-000001", "--json"], ["cases", "--json"], ["history", "case-000001", "--json"]] {
            let plain = try box.iplog(command)
            #expect(plain.status == 0 && !plain.stdout.contains(personA) && plain.stdout.contains(masked), "\(command): \(plain.stdout.prefix(300))")
            let shown = try box.iplog(command + ["--show-person-id", "--reason", "klage"])
            #expect(shown.status == 0 && shown.stdout.contains(personA), "\(command) --show-person-id")
        }
        let export = try box.iplog(["export"])
        #expect(export.stdout.contains(personA))
        let reads = try AccessLog(directory: box.store).allEntries()
        #expect(reads.filter { $0.command != "export" && $0.reason == nil }.allSatisfy { $0.personIdsShown == false })
        #expect(reads.filter { $0.reason == "klage" }.count == 3 && reads.filter { $0.reason == "klage" }.allSatisfy { $0.personIdsShown == true })
        #expect(reads.last { $0.command == "export" }?.personIdsShown == true)
    }

    /// The trial's two: a misspelt `eventID` in an import made the same import
    /// run twice write every event twice; a misspelt optional field vanished.
    @Test func unknownFieldsAreRefusedNotDropped() throws {
        let box = try Sandbox()
        let misspelt = registrationLines(3).map { $0.replacingOccurrences(of: #""eventId""#, with: #""eventID""#) }
        let file = try box.write("in.jsonl", misspelt)
        for _ in 0..<2 {
            let run = try box.iplog(["import", file])
            #expect(run.status == 2 && run.stderr.hasPrefix("[invalidShape] line 1: field eventID: not a field of the catalogue (did you mean `eventId`?)"), "\(run.stderr)")
        }
        #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":0"#))
        #expect(try box.iplog(["import", try box.write("case.jsonl", Line.decided + [Line.appoint()])]).status == 0)
        let plan = try box.iplog(["append", "--stream", "case-000001", "--type", "PlanEstablished", "--data",
                                  #"{"establishedOn":"2026-03-05","goals":[],"measures":[],"nextEvaluationDate":"2026-09-05"}"#])
        #expect(plan.status == 2 && plan.stderr.contains("field data.nextEvaluationDate") && plan.stderr.contains("did you mean `nextEvaluationDue`?"), "\(plan.stderr)")
        // And what export writes imports again, its four extra fields and all.
        let exported = try box.write("export.jsonl", lines(try box.iplog(["export"]).stdout))
        let other = box.directory + "/other"
        let again = try box.iplog(["import", exported], store: other)
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// `export`'s help says its output imports into another store: true after
    /// an erasure too, and the erased values stay erased there.
    @Test func anExportTakenAfterAnErasureImportsAgainAndStaysErased() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", ErasureTests.closedCase)]).status == 0)
        #expect(try box.iplog(["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute"]).status == 0)
        let before = try #require(try box.iplog(["verify", "--json"]).json as? [String: Any])
        let exported = try box.write("export.jsonl", lines(try box.iplog(["export"]).stdout))
        #expect(try String(contentsOfFile: exported, encoding: .utf8).contains(#""personId":"[erased]""#))

        let other = box.directory + "/other"
        for lenient in [false, true] {
            let store = other + (lenient ? "-lenient" : "")
            let imported = try box.iplog(["import", exported] + (lenient ? ["--lenient"] : []), store: store)
            #expect(imported.status == 0, "\(imported.stderr)")
            let after = try #require(try box.iplog(["verify", "--json"], store: store).json as? [String: Any])
            #expect(after["ok"] as? Bool == true, "\(after)")
            #expect(after["sealedEvents"] as? Int == before["sealedEvents"] as? Int && after["erasedEvents"] as? Int == before["erasedEvents"] as? Int, "\(after) vs \(before)")
            // Nothing of the person in the new store, and the case reads as erased.
            let history = try box.iplog(["history", "case-000001", "--show-person-id", "--json"], store: store)
            #expect(!history.stdout.contains(personA) && !history.stdout.contains(ErasureTests.name) && history.stdout.contains(#""personalDataErased":true"#))
            #expect(ErasureTests().filesContaining(Data(ErasureTests.name.utf8), in: store).isEmpty)
            // It takes no new personal values, but the same export again writes nothing twice.
            let again = try box.iplog(["import", exported, "--json"], store: store)
            #expect((again.json as? [String: Any])?["imported"] as? Int == 0, "\(again.stdout)")
        }
        let personal = try box.iplog(["append", "--stream", "case-000001", "--type", "DeviationReported", "--data",
                                      #"{"deviationId":"d-9","reportedOn":"2026-10-05","category":"dokumentasjon","description":"Ingrid ringte"}"#], store: other)
        #expect(personal.status == 3 && personal.stderr.hasPrefix("[personErased] "), "\(personal.stderr)")
    }

    /// Safe and consistent defaults: an append names its actor as a read does,
    /// a refusal for an open case names the case, `--version`, plurals.
    @Test func safeAndConsistentDefaults() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", [Line.application()])]).status == 0)
        let again = try box.iplog(["append", "--stream", "case-000002", "--type", "ApplicationReceived", "--data",
                                   #"{"personId":"\#(personA)","receivedOn":"2026-01-06","requested":["coordinator"],"origin":"application","unit":"U"}"#])
        #expect(again.status == 3 && again.stderr.hasPrefix("[personHasOpenCase] ") && again.stderr.contains("case-000001"), "\(again.stderr)")
        #expect(!again.stderr.contains(personA))
        let user = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(try box.iplog(["append", "--stream", "case-000001", "--type", "DecisionSent", "--data",
                               #"{"sentOn":"2026-01-07","channel":"post","appealInformationIncluded":true}"#]).status == 0)
        let last = try #require(lines(try box.iplog(["export"]).stdout).last)
        #expect((try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["actor"] as? String == user)
        let version = try box.iplog(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("iplog ") && version.stdout.contains("storage format 2"), "\(version.stdout)")
        #expect(try box.iplog(["cases"]).stdout.contains("\n1 case\n"))
        #expect(try box.iplog(["verify"]).stdout.hasPrefix("OK: 2 events;"))
    }

    /// `erase` asks on a terminal (a real one: `script` gives it a pty) and does
    /// nothing without a yes; `--yes`, and a script's standard input, do not ask.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script (util-linux)"))
    func eraseAsksForConfirmationOnATerminal() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", ErasureTests.closedCase)]).status == 0)
        func onTerminal(_ answer: String) throws -> Run {
            let command = "printf '\(answer)\\n' | script -qec '\(iplogBinary) erase --person \(personA) --reason r --store \(box.store)' /dev/null"
            return try runBinary("/bin/bash", ["-c", command], in: box.directory)
        }
        let declined = try onTerminal("no")
        #expect(declined.stdout.contains("cannot be undone") && declined.stdout.contains("[cancelled]"), "\(declined.stdout)")
        #expect(try box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA))
        let confirmed = try onTerminal("yes")
        #expect(confirmed.stdout.contains("Erased the personal data") && confirmed.stdout.contains("in 1 case:"), "\(confirmed.stdout)")
        #expect(!(try box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA)))
    }

    /// `--excel` on every report: a byte-order mark and `;`, so Norwegian Excel
    /// opens it in columns with æøå intact; the same rows as `--csv`.
    @Test func everyReportTakesExcel() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", Line.active)]).status == 0)
        for report in [["cases"], ["deviations", "--as-of", "2026-11-01"], ["workload"], ["deviations", "--closed-from", "2026-01-01", "--closed-to", "2026-11-01"]] {
            // The raw bytes, through a file: a String made from them would drop the byte-order mark.
            let file = box.directory + "/excel.csv"
            let excel = try runBinary("/bin/bash", ["-c", "exec \"$0\" \"$@\" > \(file)", iplogBinary] + report + ["--excel", "--store", box.store], in: box.directory)
            let csv = try box.iplog(report + ["--csv"])
            #expect(excel.status == 0 && csv.status == 0, "\(report): \(excel.stderr)")
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]), "\(report): no byte-order mark")
            let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            #expect(text.split(separator: "\n").first?.contains(";") == true && !(text.split(separator: "\n").first?.contains(",") ?? true))
            // The same rows, field for field.
            let excelRows = text.split(separator: "\n").map { $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init) }
            let csvRows = csv.stdout.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(excelRows == csvRows, "\(report)")
        }
        #expect(try box.iplog(["cases", "--excel", "--csv"]).status == 2)
        // A field with the separator in it is quoted.
        #expect(csvLine(["a;b", "c"], separator: ";") == "\"a;b\";c")
    }

    /// `iplog types` is the catalogue for its users, read from the decoder: every
    /// example line it shows imports (shape checked), every type is there, and
    /// a mistyped type name is answered with the closest one.
    @Test func theCatalogueListsEveryTypeWithAnExampleThatImports() throws {
        let box = try Sandbox()
        let listed = try #require(try runIplog(["types", "--json"], in: box.directory).json as? [String: Any])
        let types = listed["types"] as? [[String: Any]] ?? []
        #expect(types.count == 31)
        let examples = try types.map { t -> String in
            let example = try #require(t["example"])
            return String(decoding: try JSONSerialization.data(withJSONObject: example), as: UTF8.self)
        }
        let imported = try box.iplog(["import", try box.write("examples.jsonl", examples), "--lenient"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let plan = try #require(types.first { $0["type"] as? String == "PlanEstablished" })
        let fields = plan["fields"] as? [[String: Any]] ?? []
        #expect(fields.first { $0["name"] as? String == "nextEvaluationDue" }?["required"] as? Bool == false)
        #expect((fields.first { $0["name"] as? String == "goals" }?["fields"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["goalId", "description", "horizon"])
        let closed = try #require(types.first { $0["type"] as? String == "PlanClosed" })
        #expect((closed["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "reason" }?["values"] as? [String]
                == ["needEnded", "personRequested", "movedAway", "deceased", "consentWithdrawn", "other"])
        let text = try runIplog(["types", "MeetingHeld"], in: box.directory).stdout
        #expect(text.contains("actionItems: a list of objects with") && text.contains("example: {"))
        // Each type's schema version: AppealDecided is at 2, with version 2's outcomes.
        let appeal = try #require(types.first { $0["type"] as? String == "AppealDecided" })
        #expect(appeal["schemaVersion"] as? Int == 2 && types.filter { $0["schemaVersion"] as? Int == 1 }.count == 30)
        let appealText = try runIplog(["types", "AppealDecided"], in: box.directory).stdout
        #expect(appealText.contains("schema version 2") && appealText.contains("outcome: one of confirmed, reversed, partlyReversed, quashed, dismissed, withdrawn"))
        // A mistyped type, in `types` and in an append.
        #expect(try runIplog(["types", "MeetingHold"], in: box.directory).stderr.contains("did you mean `MeetingHeld`?"))
        let append = try box.iplog(["append", "--create", "--stream", "case-000001", "--type", "MeetingHold", "--data", "{}"])
        #expect(append.status == 2 && append.stderr.contains("did you mean `MeetingHeld`?") && append.stderr.contains("iplog types"), "\(append.stderr)")
    }

    /// A coordinator's agenda: what is overdue and what falls due within N days,
    /// to the day, oldest first; only their active cases; `deviations --coordinator`.
    @Test func aCoordinatorsAgenda() throws {
        let box = try Sandbox()
        // Coordinator 0001 active from 2026-02-10, a group member from 2026-02-11, meeting m-1 scheduled for 2026-03-01.
        #expect(try box.iplog(["import", try box.write("case.jsonl", Line.active)]).status == 0)
        func items(_ asOf: String, within: Int, coordinator: String = "0001") throws -> [[String: Any]] {
            let run = try box.iplog(["due", "--coordinator", coordinator, "--as-of", asOf, "--within", String(within), "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            return (run.json as? [String: Any])?["items"] as? [[String: Any]] ?? []
        }
        func summary(_ list: [[String: Any]]) -> [String] {
            list.map { "\($0["what"]!) \($0["ref"] as? String ?? "-") \($0["due"]!) \($0["days"]!)" }
        }
        #expect(summary(try items("2026-02-20", within: 30)) == ["meetingScheduled m-1 2026-03-01 9"])
        #expect(summary(try items("2026-02-20", within: 8)).isEmpty)
        #expect(summary(try items("2026-02-20", within: 9)) == ["meetingScheduled m-1 2026-03-01 9"])
        // Held on 2026-03-01 without minutes: minutes due 7 days on, the next meeting 6 months on.
        #expect(try box.iplog(["append", "--stream", "case-000001", "--type", "MeetingHeld", "--data",
                               #"{"meetingId":"m-1","heldOn":"2026-03-01","attendees":["coordinator-0001"],"minutesWritten":false,"actionItems":[{"itemId":"a-1","description":"Søke","responsible":"g-1","dueOn":"2026-03-20"}]}"#]).status == 0)
        #expect(summary(try items("2026-03-05", within: 30)) == ["minutes m-1 2026-03-08 3", "actionItem a-1 2026-03-20 15"])
        #expect(summary(try items("2026-03-10", within: 0)) == ["minutes m-1 2026-03-08 -2"])
        #expect(summary(try items("2026-03-05", within: 200)).last == "meeting - 2026-09-01 180")
        #expect(try items("2026-03-05", within: 30, coordinator: "0003").isEmpty)
        let text = try box.iplog(["due", "--coordinator", "0001", "--as-of", "2026-03-10"]).stdout
        #expect(text.contains("overdue 2 days") && text.contains("minutes of the meeting"), "\(text)")
        // The deviation report for one coordinator.
        let mine = (try box.iplog(["deviations", "--coordinator", "0001", "--as-of", "2026-03-10", "--json"]).json as? [String: Any])?["deviations"] as? [[String: Any]] ?? []
        #expect(mine.contains { $0["rule"] as? String == "minutesMissing" } && mine.allSatisfy { $0["coordinatorId"] as? String == "0001" })
        let others = (try box.iplog(["deviations", "--coordinator", "0003", "--as-of", "2026-03-10", "--json"]).json as? [String: Any])?["deviations"] as? [Any]
        #expect(others?.isEmpty == true)
    }

    /// Processing time through the binary, and the decision date in `cases --json`.
    @Test func processingTimeAndTheDecisionDate() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", Line.decided)]).status == 0)  // received 2026-01-05, decided 2026-02-01
        let run = try box.iplog(["processing-time", "--from", "2026-01-01", "--to", "2026-11-23", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = (run.json as? [String: Any])?["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 1)
        #expect(rows.first?["unit"] as? String == "Hjemmetjenesten" && rows.first?["month"] as? String == "2026-02")
        #expect(rows.first?["decisions"] as? Int == 1 && rows.first?["medianDays"] as? Int == 27 && rows.first?["pastDeadline"] as? Int == 0)
        #expect(try box.iplog(["processing-time", "--from", "2026-03-01", "--to", "2026-11-23"]).stdout.contains("0 decisions"))
        let cases = (try box.iplog(["cases", "--json"]).json as? [String: Any])?["cases"] as? [[String: Any]] ?? []
        #expect(cases.first?["decidedOn"] as? String == "2026-02-01")
    }

    /// The municipality's units: listed in config.json, an application or a
    /// registration with another unit is refused with the list; a `--unit`
    /// filter that matches no unit is bad input; `iplog units` counts them.
    @Test func unitsAreTheMunicipalitys() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", Line.active)]).status == 0)  // unit Hjemmetjenesten
        try #"{"units": ["Hjemmetjenesten", "Barn og familie"]}"#.write(toFile: box.store + "/config.json", atomically: true, encoding: .utf8)
        let typo = try box.iplog(["append", "--stream", "case-000002", "--type", "ApplicationReceived", "--data",
                                  #"{"personId":"\#(personB)","receivedOn":"2026-03-01","requested":["coordinator"],"origin":"application","unit":"Hjemmetjenseten"}"#])
        #expect(typo.status == 3 && typo.stderr.hasPrefix("[unknownUnit] ") && typo.stderr.contains("did you mean \"Hjemmetjenesten\"")
                && typo.stderr.contains("Barn og familie"), "\(typo.stderr)")
        let coordinator = try box.iplog(["append", "--stream", "coordinator-0009", "--type", "CoordinatorRegistered", "--data",
                                         #"{"coordinatorId":"0009","name":"A B","unit":"Skole","profession":"lærer","registeredOn":"2025-01-02"}"#])
        #expect(coordinator.status == 3 && coordinator.stderr.hasPrefix("[unknownUnit] "), "\(coordinator.stderr)")
        let listed = try box.iplog(["append", "--stream", "case-000002", "--type", "ApplicationReceived", "--data",
                                    #"{"personId":"\#(personB)","receivedOn":"2026-03-01","requested":["coordinator"],"origin":"application","unit":"Barn og familie"}"#])
        #expect(listed.status == 0, "\(listed.stderr)")
        // Migrated history (--lenient) is not held to the list.
        #expect(try box.iplog(["import", try box.write("old.jsonl", [Line.application("case-000003", person: personC, on: "2026-03-02").replacingOccurrences(of: "Hjemmetjenesten", with: "Gammel enhet")]), "--lenient"]).status == 0)

        for report in [["cases"], ["deviations"], ["workload"], ["processing-time"]] {
            let run = try box.iplog(report + ["--unit", "Hjemmetjenstene"])
            #expect(run.status == 2 && run.stderr.contains("no unit \"Hjemmetjenstene\"") && run.stderr.contains("did you mean \"Hjemmetjenesten\""), "\(report): \(run.stderr)")
        }
        #expect(try box.iplog(["cases", "--unit", "Barn og familie"]).status == 0)
        let units = (try box.iplog(["units", "--json"]).json as? [String: Any])?["units"] as? [[String: Any]] ?? []
        func row(_ unit: String) -> [String: Any]? { units.first { $0["unit"] as? String == unit } }
        #expect(row("Hjemmetjenesten")?["cases"] as? Int == 1 && row("Hjemmetjenesten")?["coordinators"] as? Int == 3 && row("Hjemmetjenesten")?["listed"] as? Bool == true)
        #expect(row("Barn og familie")?["openCases"] as? Int == 1)
        #expect(row("Gammel enhet")?["listed"] as? Bool == false)
        try #"{"units": ["A", "A"]}"#.write(toFile: box.store + "/config.json", atomically: true, encoding: .utf8)
        #expect(try box.iplog(["cases"]).status == 2)
    }
}
