import AccessLog
import Foundation
import Testing

struct ImportExportTests {
    @Test func importThenExportGivesBackTheEventsWithWhatTheLogAssigned() throws {
        let box = try Sandbox()
        let input = registrationLines(300)
        let file = try box.write("in.jsonl", input)
        let imported = try box.iplog(["import", file, "--json", "--batch-size", "64"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let summary = imported.json as? [String: Any]
        #expect(summary?["imported"] as? Int == 300 && summary?["skipped"] as? Int == 0 && summary?["lastPosition"] as? Int == 300)

        let exported = try box.iplog(["export"])
        #expect(exported.status == 0)
        let records = lines(exported.stdout).map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(records.count == 300)
        for (i, (record, line)) in zip(records, input).enumerated() {
            let original = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for key in ["stream", "type", "eventId", "occurredOn", "actor"] {
                #expect(record[key] as? String == original[key] as? String, "line \(i + 1) \(key)")
            }
            #expect(NSDictionary(dictionary: record["data"] as! [String: Any]).isEqual(to: original["data"] as! [String: Any]))
            #expect(record["position"] as? Int == i + 1 && record["version"] as? Int == 1)
            #expect((record["hash"] as? String)?.count == 64)
            #expect((record["recordedAt"] as? String)?.hasSuffix("Z") == true)
        }

        // The export imports into a fresh store and exports the same again.
        let exportFile = try box.write("export.jsonl", lines(exported.stdout))
        let second = box.directory + "/second"
        #expect(try box.iplog(["import", exportFile], store: second).status == 0)
        let again = try box.iplog(["export"], store: second)
        func strip(_ text: String) -> [NSDictionary] {
            lines(text).map {
                var d = try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
                d["recordedAt"] = nil
                d["hash"] = nil
                return NSDictionary(dictionary: d)
            }
        }
        #expect(strip(again.stdout) == strip(exported.stdout))
        #expect(try box.iplog(["verify"], store: second).status == 0)
    }

    @Test func importingTheSameFileTwiceWritesNothingTheSecondTime() throws {
        let box = try Sandbox()
        let file = try box.write("in.jsonl", registrationLines(120))
        #expect(try box.iplog(["import", file]).status == 0)
        let second = try box.iplog(["import", file, "--json"])
        #expect(second.status == 0)
        let summary = second.json as? [String: Any]
        #expect(summary?["imported"] as? Int == 0 && summary?["skipped"] as? Int == 120)
        let stats = try box.iplog(["stats", "--json"]).json as? [String: Any]
        #expect(stats?["events"] as? Int == 120)
    }

    @Test func aBadLineIsNamedAndNothingFromItOnIsWritten() throws {
        let box = try Sandbox()
        var input = registrationLines(5)
        input[2] = #"{"stream":"coordinator-x","type":"CoordinatorRegistered","data":{"#  // cut short
        let file = try box.write("in.jsonl", input)
        let run = try box.iplog(["import", file, "--json", "--batch-size", "2"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("[invalidShape] line 3: "))
        let error = (run.json as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "invalidShape" && error?["line"] as? Int == 3)
        #expect((try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int == 2)

        // Fixed, the same import resumes where it stopped.
        input[2] = registrationLines(3)[2]
        let fixed = try box.write("in.jsonl", input)
        let rerun = try box.iplog(["import", fixed, "--json"])
        #expect(rerun.status == 0)
        #expect((rerun.json as? [String: Any])?["imported"] as? Int == 3)
        #expect((rerun.json as? [String: Any])?["skipped"] as? Int == 2)
    }

    @Test func importsFromStandardInputAndStopsAtABadLineThere() throws {
        // Lines are read and parsed on a second thread: from a pipe too, and
        // the ids of what was committed before the bad line are in the index.
        let box = try Sandbox()
        var input = registrationLines(2_305)
        let whole = try box.iplog(["import", "-", "--json"], stdin: input.prefix(2_000).joined(separator: "\n") + "\n\n")
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect((whole.json as? [String: Any])?["imported"] as? Int == 2_000)
        input[2_300] = "[1, 2"
        // (A few lines past the bad one: what the import leaves unread must fit in the pipe.)
        let broken = try box.iplog(["import", "-", "--batch-size", "100"], stdin: input.prefix(2_305).joined(separator: "\n"))
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("line 2301: "), "\(broken.stderr)")
        #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":2300"#))
        #expect(try box.iplog(["verify"]).status == 0)
        // The committed lines are known by their ids: importing them again writes nothing.
        let again = try box.iplog(["import", "-", "--json"], stdin: input.prefix(2_300).joined(separator: "\n"))
        #expect((again.json as? [String: Any])?["skipped"] as? Int == 2_300)
    }

    @Test func anAtomicImportWritesAllOrNothing() throws {
        let box = try Sandbox()
        var input = registrationLines(50)
        input.append(#"{"stream":"coordinator-y","type":"CoordinatorRegistered","occurredOn":"2026-02-30","data":{}}"#)
        let file = try box.write("in.jsonl", input)
        let run = try box.iplog(["import", file, "--atomic"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("[invalidDate] line 51: "))
        #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":0"#))
        let good = try box.write("good.jsonl", Array(input.dropLast()))
        #expect(try box.iplog(["import", good, "--atomic"]).status == 0)
        #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":50"#))
    }

    @Test func readingCommandsDoNotCreateAStore() throws {
        let box = try Sandbox()
        let run = try box.iplog(["export"])
        #expect(run.status == 1 && run.stderr.hasPrefix("[noStore]"))
        #expect(!FileManager.default.fileExists(atPath: box.store))
    }
}

struct AppendCommandTests {
    let data = #"{"coordinatorId":"0042","name":"Kari Nordmann","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2025-01-02"}"#

    @Test func appendsAndAnswersWithPositionAndVersion() throws {
        let box = try Sandbox()
        let run = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data, "--json", "--actor", "coordinating-unit"])
        #expect(run.status == 0, "\(run.stderr)")
        let result = run.json as? [String: Any]
        #expect(result?["position"] as? Int == 1 && result?["version"] as? Int == 1 && result?["stream"] as? String == "coordinator-0042")
        #expect((result?["eventId"] as? String)?.count == 36)
        let exported = try box.iplog(["export"]).stdout
        #expect(exported.contains(#""occurredOn":"2025-01-02""#) && exported.contains(#""actor":"coordinating-unit""#))
    }

    /// Without `--store` and `--actor`, the store and the actor come from
    /// `IPLOG_STORE` and `IPLOG_ACTOR`, whatever the characters of their values.
    @Test func theStoreAndTheActorComeFromTheEnvironment() throws {
        let box = try Sandbox()
        let store = box.directory + "/lager=Tromsø kommune", actor = "Tromsø kommune · rådgiver"
        var environment = testEnvironment
        environment["IPLOG_STORE"] = store
        environment["IPLOG_ACTOR"] = actor
        let run = try runBinary(iplogBinary, ["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data],
                                in: box.directory, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.directory + "/iplog-store"))  // not the default store
        let exported = lines(try box.iplog(["export"], store: store).stdout)
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(exported.count == 1)
        #expect(exported.first?["actor"] as? String == actor)
    }

    /// `IPLOG_ACTOR` set but empty is unset, for appends and reads alike: both
    /// name the OS user (not "").
    @Test func anEmptyActorVariableIsReadAsUnset() throws {
        let box = try Sandbox()
        var environment = testEnvironment
        environment["IPLOG_ACTOR"] = ""
        let run = try runBinary(iplogBinary, ["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data, "--store", box.store],
                                in: box.directory, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let exported = try #require(lines(try box.iplog(["export"]).stdout).first)
        let event = try #require(try JSONSerialization.jsonObject(with: Data(exported.utf8)) as? [String: Any])
        let user = String(cString: getpwuid(getuid())!.pointee.pw_name)
        #expect(event["actor"] as? String == user, "the OS user, not \"\": \(exported)")
        _ = try runBinary(iplogBinary, ["history", "coordinator-0042", "--store", box.store], in: box.directory, environment: environment)
        let access = try AccessLog(directory: box.store).allEntries().filter { $0.command == "history" }
        #expect(access.map(\.actor) == [user])
    }

    @Test func aVersionConflictExitsFourAndWritesNothing() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data, "--expected-version", "noStream"]).status == 0)
        let run = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorTrained", "--data", #"{"trainedOn":"2025-02-01","course":"Grunnkurs"}"#, "--expected-version", "0", "--json"])
        #expect(run.status == 4)
        #expect(run.stderr.hasPrefix("[versionConflict] "))
        #expect(((run.json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "versionConflict")
        #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":1"#))
    }

    @Test func anEventIDReusedForOtherContentExitsThree() throws {
        let box = try Sandbox()
        let id = "11111111-2222-4333-8444-555555555555"
        let first = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data, "--event-id", id, "--json"])
        #expect(first.status == 0)
        let same = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data, "--event-id", id, "--json"])
        #expect(same.status == 0)
        #expect((same.json as? [String: Any])?["position"] as? Int == 1 && (same.json as? [String: Any])?["written"] as? Bool == false)
        let other = try box.iplog(["append", "--create", "--stream", "coordinator-0043", "--type", "CoordinatorRegistered", "--data",
                                   data.replacingOccurrences(of: "0042", with: "0043"), "--event-id", id])
        #expect(other.status == 3)
        #expect(other.stderr.hasPrefix("[duplicateEventId] "))
    }

    @Test(arguments: [
        (["--data", "{not json"], "[invalidShape] field data: malformed JSON"),
        (["--data", "[]"], "[invalidShape] field data: a JSON object expected"),
        (["--data", "{}", "--occurred-on", "2026-02-30"], "[invalidDate] field occurredOn"),
        (["--data", "{}", "--event-id", "x"], "[invalidShape] field eventId"),
        (["--data", "{}", "--expected-version=-3"], "[invalidShape] field expectedVersion"),
        (["--data", "{}", "--expected-version"], "Error: Missing value"),
        (["--data", "{}", "--data-file", "x"], "Error: Give the payload"),
    ])
    func badInputExitsTwo(extra: [String], message: String) throws {
        let box = try Sandbox()
        let run = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered"] + extra)
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix(message), "\(run.stderr)")
        if FileManager.default.fileExists(atPath: box.store + "/log/data.mdb") {
            #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":0"#))
        }
    }

    @Test func readsThePayloadFromAFileOrStandardInput() throws {
        let box = try Sandbox()
        let file = try box.write("data.json", [data])
        #expect(try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data-file", file]).status == 0)
        let run = try box.iplog(["append", "--create", "--stream", "coordinator-0043", "--type", "CoordinatorRegistered", "--data-file", "-"],
                                stdin: data.replacingOccurrences(of: "0042", with: "0043"))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try box.iplog(["stats", "--json"]).stdout.contains(#""events":2"#))
    }
}
