import Foundation
import Testing

struct FaultTests {
    /// A file size limit stands in for a full disk: the import fails with a
    /// clear message and exit 1, nothing half-written, and the same import
    /// succeeds once there is room.
    @Test func aFullDiskFailsCleanlyAndTheStoreWorksAgainWithRoom() throws {
        let box = try Sandbox()
        let first = try box.write("first.jsonl", registrationLines(200, prefix: "a"))
        #expect(try box.iplog(["import", first]).status == 0)
        let size = try FileManager.default.attributesOfItem(atPath: box.store + "/log/data.mdb")[.size] as! NSNumber
        let big = try box.write("big.jsonl", registrationLines(20_000, prefix: "b"))
        // ulimit -f counts 512-byte blocks; SIGXFSZ is ignored so the write fails with EFBIG instead of killing.
        let limited = Process()
        limited.executableURL = URL(fileURLWithPath: "/bin/bash")
        limited.arguments = ["-c", "trap '' XFSZ; ulimit -f \(size.intValue / 512 + 64); exec \"$IPLOG\" import \"$FILE\" --store \"$STORE\" --batch-size 500"]
        var env = testEnvironment
        env["IPLOG"] = iplogBinary
        env["FILE"] = big
        env["STORE"] = box.store
        limited.environment = env
        let err = box.directory + "/limited.err"
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        limited.standardError = FileHandle(forWritingAtPath: err)
        limited.standardOutput = FileHandle.nullDevice
        try limited.run()
        limited.waitUntilExit()
        let message = try String(contentsOfFile: err, encoding: .utf8)
        #expect(limited.terminationStatus == 1, "\(message)")
        #expect(message.hasPrefix("[diskFull] "), "\(message)")
        #expect(try box.iplog(["verify"]).status == 0)
        let stored = (try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int ?? -1
        #expect(stored >= 200 && (stored - 200) % 500 == 0, "whole batches only: \(stored)")
        // With room again, the same import completes.
        let again = try box.iplog(["import", big, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect((try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int == 20_200)
        #expect(try box.iplog(["verify"]).status == 0)
    }

    /// A store whose last record was damaged on disk: `verify` reports it and
    /// the CLI refuses to extend the broken chain.
    @Test func aDamagedStoreIsReportedAndNotExtended() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("in.jsonl", registrationLines(50))]).status == 0)
        let last = try #require(lines(try box.iplog(["export", "--from", "50"]).stdout).first)
        let hashHex = try #require((try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])?["hash"] as? String)
        let hash = stride(from: 0, to: hashHex.count, by: 2).map { i -> UInt8 in
            let start = hashHex.index(hashHex.startIndex, offsetBy: i)
            return UInt8(hashHex[start..<hashHex.index(start, offsetBy: 2)], radix: 16)!
        }
        let path = box.store + "/log/data.mdb"
        var file = try Data(contentsOf: URL(fileURLWithPath: path))
        let found = try #require(file.range(of: Data(hash)))
        file[found.lowerBound + 5] ^= 0xFF
        try file.write(to: URL(fileURLWithPath: path))

        let verify = try box.iplog(["verify", "--json"])
        #expect(verify.status == 1)
        #expect((verify.json as? [String: Any])?["ok"] as? Bool == false)
        let append = try box.iplog(["append", "--create", "--stream", "coordinator-new", "--type", "CoordinatorRegistered", "--data",
                                    #"{"coordinatorId":"new","name":"A B","unit":"U","profession":"P","registeredOn":"2025-01-02"}"#])
        #expect(append.status == 1)
        #expect(append.stderr.hasPrefix("[chainBroken] "), "\(append.stderr)")
    }

    /// SIGKILL at random moments of imports, many times over: the store always
    /// verifies and holds whole batches of a prefix of the file; the last run
    /// completes it with every event once.
    @Test func importsKilledAtRandomMomentsLeaveAVerifiedPrefix() throws {
        let box = try Sandbox()
        let total = 30_000, batch = 250
        let input = registrationLines(total)
        let file = try box.write("big.jsonl", input)
        var kills = 0
        for round in 0..<6 {
            let importer = try box.start(["import", file, "--batch-size", String(batch)])
            usleep(UInt32(20_000 + (round * 37_000) % 160_000))
            kill(importer.processIdentifier, SIGKILL)
            importer.waitUntilExit()
            if importer.terminationReason == .uncaughtSignal { kills += 1 }
            // Killed before it had created the store: nothing to verify yet.
            guard FileManager.default.fileExists(atPath: box.store + "/log/data.mdb") else { continue }
            let verify = try box.iplog(["verify"])
            if verify.status != 0 {
                // Killed before the store's first commit: refused as not a store (never taken for an empty one).
                #expect(verify.status == 1 && verify.stderr.contains("cut short"), "round \(round): \(verify.stderr)")
                continue
            }
            let stored = (try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int ?? -1
            #expect(stored % batch == 0 || stored == total, "round \(round): \(stored)")
        }
        #expect(kills >= 3)
        let rerun = try box.iplog(["import", file, "--json"])
        #expect(rerun.status == 0)
        let exported = lines(try box.iplog(["export"]).stdout)
        #expect(exported.count == total)
        let ids = Set(exported.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["eventId"] as? String })
        #expect(ids.count == total)
    }

    /// SIGKILL during a run of appends: every append whose commit was
    /// acknowledged is in the log, and at most the one in flight besides.
    @Test func appendsKilledMidwayKeepEveryAcknowledgedEvent() throws {
        let box = try Sandbox()
        let out = box.directory + "/acks"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        let appender = Process()
        appender.executableURL = URL(fileURLWithPath: "/bin/bash")
        appender.arguments = ["-c", #"""
            i=0
            while true; do
              i=$((i + 1))
              "$IPLOG" append --create --store "$STORE" --stream "coordinator-k$i" --type CoordinatorRegistered \
                --data "{\"coordinatorId\":\"k$i\",\"name\":\"A B\",\"unit\":\"U\",\"profession\":\"P\",\"registeredOn\":\"2025-01-02\"}" >/dev/null && echo "k$i"
            done
            """#]
        var env = testEnvironment
        env["IPLOG"] = iplogBinary
        env["STORE"] = box.store
        appender.environment = env
        appender.standardOutput = FileHandle(forWritingAtPath: out)
        try appender.run()
        usleep(1_500_000)
        // Kill the whole process group: the shell and the iplog it is running.
        kill(-appender.processIdentifier, SIGKILL)
        kill(appender.processIdentifier, SIGKILL)
        system("pkill -KILL -f 'coordinator-k' >/dev/null 2>&1")
        appender.waitUntilExit()
        let acknowledged = Set(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init))
        #expect(acknowledged.count > 3)
        #expect(try box.iplog(["verify"]).status == 0)
        let stored = Set(lines(try box.iplog(["export"]).stdout).compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["stream"] as? String)?.replacingOccurrences(of: "coordinator-", with: "")
        })
        #expect(acknowledged.isSubset(of: stored))
        #expect(stored.count - acknowledged.count <= 1)
    }
}
