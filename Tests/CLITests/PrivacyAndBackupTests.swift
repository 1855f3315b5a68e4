import Foundation
import Testing

struct AccessLogTests {
    @Test func everyReadOfAPersonsCaseIsRecordedWithWhoWhatAndWhy() throws {
        let box = try Sandbox()
        let file = try box.write("case.jsonl", Line.active + [Line.application("case-000002", person: personB)])
        #expect(try box.iplog(["import", file]).status == 0)
        #expect(try box.iplog(["history", "case-000001", "--actor", "saksbehandler-7", "--reason", "klagesak"]).status == 0)
        #expect(try box.iplog(["case", "case-000001", "--actor", "koordinator-0001"]).status == 0)
        #expect(try box.iplog(["cases", "--unit", "Hjemmetjenesten", "--actor", "enhetsleder"]).status == 0)
        #expect(try box.iplog(["export", "--stream", "case-000002", "--actor", "arkiv"]).status == 0)

        let log = try box.iplog(["access-log", "--person", personA, "--json"])
        #expect(log.status == 0, "\(log.stderr)")
        let reads = (log.json as? [String: Any])?["reads"] as? [[String: Any]] ?? []
        #expect(reads.map { $0["command"] as? String } == ["history", "case", "cases"])
        #expect(reads.map { $0["actor"] as? String } == ["saksbehandler-7", "koordinator-0001", "enhetsleder"])
        #expect(reads[0]["subject"] as? String == "case-000001" && reads[0]["reason"] as? String == "klagesak")
        #expect(reads[2]["subject"] as? String == "unit=Hjemmetjenesten")
        #expect((reads[0]["at"] as? String)?.hasSuffix("Z") == true)

        let other = (try box.iplog(["access-log", "--person", personB, "--json"]).json as? [String: Any])?["reads"] as? [[String: Any]] ?? []
        #expect(other.map { $0["command"] as? String } == ["cases", "export"])

        // The access log's own files hold no person id in clear.
        let raw = try Data(contentsOf: URL(fileURLWithPath: box.store + "/access/data.mdb"))
        #expect(raw.range(of: Data(personA.utf8)) == nil && raw.range(of: Data(personB.utf8)) == nil)
        #expect(try box.iplog(["access-log", "--person", "12345678901"]).status == 2)
    }

    @Test func theActorDefaultsToIPLOGACTOR() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("c.jsonl", Line.active)]).status == 0)
        var env = testEnvironment
        env["IPLOG_ACTOR"] = "fra-miljoet"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: iplogBinary)
        p.arguments = ["case", "case-000001", "--store", box.store]
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let reads = (try box.iplog(["access-log", "--person", personA, "--json"]).json as? [String: Any])?["reads"] as? [[String: Any]] ?? []
        #expect(reads.last?["actor"] as? String == "fra-miljoet")
    }
}

struct BackupTests {
    @Test func aBackupTakenWhileAppendsGoOnVerifiesAndOpensAsAStore() throws {
        let box = try municipality(cases: 60)
        // Another process keeps appending while the backup runs.
        let appender = Process()
        appender.executableURL = URL(fileURLWithPath: "/bin/bash")
        appender.arguments = ["-c", #"""
            for i in $(seq 1 40); do
              "$IPLOG" append --create --store "$STORE" --stream coordinator-x$i --type CoordinatorRegistered \
                --data "{\"coordinatorId\":\"x$i\",\"name\":\"A B\",\"unit\":\"U\",\"profession\":\"P\",\"registeredOn\":\"2025-01-02\"}" >/dev/null || exit 1
            done
            """#]
        var env = testEnvironment
        env["IPLOG"] = iplogBinary
        env["STORE"] = box.store
        appender.environment = env
        try appender.run()
        let target = box.directory + "/backup"
        let backup = try box.iplog(["backup", target, "--json"])
        appender.waitUntilExit()
        #expect(appender.terminationStatus == 0)
        #expect(backup.status == 0, "\(backup.stderr)")
        let result = backup.json as? [String: Any]
        #expect(result?["verified"] as? Bool == true)
        let copied = result?["events"] as? Int ?? 0
        // The copy is one consistent moment: a prefix of the log as it ends up.
        let original = lines(try box.iplog(["export"]).stdout)
        let copy = lines(try box.iplog(["export"], store: target).stdout)
        #expect(copy.count == copied && copied <= original.count && copy == Array(original.prefix(copied)))
        #expect(try box.iplog(["verify"], store: target).status == 0)
        #expect(try box.iplog(["deviations", "--as-of", "2025-12-31", "--json"], store: target).status == 0)
        // The copy's files are readable by their owner only.
        for file in ["log/data.mdb", "projections/data.mdb"] {
            let mode = try FileManager.default.attributesOfItem(atPath: target + "/" + file)[.posixPermissions] as! NSNumber
            #expect(mode.intValue & 0o077 == 0, "\(file)")
        }
        // A backup never overwrites.
        let again = try box.iplog(["backup", target])
        #expect(again.status == 2 && again.stderr.contains("not empty"))
    }
}
