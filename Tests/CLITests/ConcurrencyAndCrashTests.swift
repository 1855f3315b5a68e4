import Foundation
import EventLog
import Testing

struct ConcurrencyAndCrashTests {
    /// A racer: appends versions 1…n of one stream with expected versions; on a
    /// conflict it re-reads the stream's version and tries the next one. Prints
    /// every version it won.
    static let racer = #"""
        v=0
        while [ "$v" -lt "$N" ]; do
          if [ "$v" -eq 0 ]; then
            type=CoordinatorRegistered
            data='{"coordinatorId":"race","name":"Per Hansen","unit":"Rehabilitering","profession":"sosionom","registeredOn":"2025-01-02"}'
          else
            type=CoordinatorTrained
            data="{\"trainedOn\":\"2025-02-01\",\"course\":\"kurs $ID $v\"}"
          fi
          "$IPLOG" append --create --store "$STORE" --stream coordinator-race --type "$type" --data "$data" --expected-version "$v" >/dev/null 2>&1
          rc=$?
          if [ "$rc" -eq 0 ]; then
            v=$((v + 1)); echo "$v"
          elif [ "$rc" -eq 4 ] || { [ "$rc" -eq 3 ] && [ "$v" -eq 0 ]; }; then
            # 4: another racer took this version. 3 at version 0: the other
            # registered the coordinator first (rule 9 is checked before the version).
            v=$("$IPLOG" export --store "$STORE" --stream coordinator-race | wc -l)
          else
            echo "error $rc"; exit 1
          fi
        done
        """#

    @Test func twoProcessesAppendingToOneStreamEachWinDistinctVersions() throws {
        let box = try Sandbox()
        let n = 25
        var racers: [(Process, String)] = []
        for id in ["a", "b"] {
            let out = box.directory + "/racer-\(id)"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = ["-c", Self.racer]
            var env = testEnvironment
            env["IPLOG"] = iplogBinary
            env["STORE"] = box.store
            env["N"] = String(n)
            env["ID"] = id
            p.environment = env
            p.standardOutput = FileHandle(forWritingAtPath: out)
            racers.append((p, out))
        }
        // Create the store first so both racers open the same one.
        #expect(try box.iplog(["append", "--create", "--stream", "coordinator-other", "--type", "CoordinatorRegistered", "--data", #"{"coordinatorId":"other","name":"A B","unit":"U","profession":"P","registeredOn":"2025-01-02"}"#]).status == 0)
        for (p, _) in racers { try p.run() }
        for (p, _) in racers { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
        let won = try racers.map { _, out in
            try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        }
        #expect(Set(won[0]).isDisjoint(with: Set(won[1])))
        #expect((won[0] + won[1]).sorted() == Array(1...n))
        let exported = lines(try box.iplog(["export", "--stream", "coordinator-race"]).stdout)
        #expect(exported.count == n)
        #expect(try box.iplog(["verify"]).status == 0)
    }

    @Test func aKilledImportLeavesAVerifiedPrefixInWholeBatchesAndResumes() throws {
        let box = try Sandbox()
        let total = 120_000, batch = 500
        let input = registrationLines(total)
        let file = try box.write("big.jsonl", input)
        let importer = try box.start(["import", file, "--batch-size", String(batch)])
        // Kill it once it has committed something but not everything.
        let deadline = Date().addingTimeInterval(60)
        var killedAt = 0
        while Date() < deadline {
            let stats = try box.iplog(["stats", "--json"])
            if let events = (stats.json as? [String: Any])?["events"] as? Int, events > 0 {
                kill(importer.processIdentifier, SIGKILL)
                killedAt = events
                break
            }
            usleep(5_000)
        }
        importer.waitUntilExit()
        #expect(importer.terminationReason == .uncaughtSignal, "the import finished before it could be killed")
        #expect(try box.iplog(["verify"]).status == 0)
        let stored = lines(try box.iplog(["export"]).stdout)
        #expect(stored.count >= killedAt && stored.count < total)
        #expect(stored.count % batch == 0)
        // What is stored is a prefix of the file.
        for (record, line) in zip(stored, input) {
            let id = (try JSONSerialization.jsonObject(with: Data(record.utf8)) as! [String: Any])["eventId"] as? String
            let expected = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["eventId"] as? String
            #expect(id == expected)
            if id != expected { break }
        }
        // The same import again completes it, every event exactly once.
        let rerun = try box.iplog(["import", file, "--json"])
        #expect(rerun.status == 0)
        let summary = rerun.json as? [String: Any]
        #expect(summary?["skipped"] as? Int == stored.count)
        #expect(summary?["imported"] as? Int == total - stored.count)
        #expect(try box.iplog(["verify"]).status == 0)
        #expect((try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int == total)
    }
}

struct FollowAcrossProcessesTests {
    @Test func aFollowerLearnsOfACommitByAnotherProcess() throws {
        let box = try Sandbox()
        let store = try EventStore(directory: box.store)
        let follower = LogFollower(store: store, after: 0)
        #expect(try !follower.waitForEvents(timeoutMilliseconds: 20))
        let appender = try box.start(["append", "--create", "--stream", "coordinator-0001", "--type", "CoordinatorRegistered", "--data",
                                      #"{"coordinatorId":"0001","name":"A B","unit":"U","profession":"P","registeredOn":"2025-01-02"}"#])
        #expect(try follower.waitForEvents(timeoutMilliseconds: 30_000))
        appender.waitUntilExit()
        #expect(try follower.next().map(\.stream) == ["coordinator-0001"])
    }
}
