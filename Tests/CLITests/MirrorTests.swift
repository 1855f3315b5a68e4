import Foundation
import Mirror
import Testing

/// A store of sample cases and a schema of its own in the shared test server.
final class MirrorFixture {
    let sandbox: Sandbox
    let pg: TestPostgres
    let schema: String

    init(cases: Int, seed: Int = 7, server: TestPostgres? = nil) throws {
        pg = try server ?? TestPostgres.shared.get()
        sandbox = try Sandbox()
        let sample = sandbox.directory + "/sample.jsonl"
        try #require(try runIplog(["sample", "--cases", "\(cases)", "--seed", "\(seed)", "--out", sample], in: sandbox.directory).status == 0)
        let imported = try sandbox.iplog(["import", sample])
        try #require(imported.status == 0, "\(imported.stderr)")
        schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    /// `iplog mirror` into this fixture's schema (or `schema`).
    @discardableResult
    func mirror(_ arguments: [String] = ["--once"], schema: String? = nil) throws -> Run {
        try runBinary(iplogBinary, ["mirror", "--store", sandbox.store, "--postgres", pg.url, "--schema", schema ?? self.schema] + arguments,
                      in: sandbox.directory, environment: pg.environment)
    }

    func sql(_ text: String, variables: [String: String] = [:], schema: String? = nil) throws -> [[String]] {
        try pg.psql(text, schema: schema ?? self.schema, variables: variables).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    func cli(_ arguments: [String]) throws -> [String: Any] {
        let run = try sandbox.iplog(arguments + ["--json"])
        try #require(run.status == 0, "\(arguments): \(run.stderr)")
        return try #require(run.json as? [String: Any])
    }

    /// Every table as text, in a fixed order (the checkpoint without its clock).
    func tables(schema: String? = nil) throws -> String {
        try pg.psql("""
            SELECT position, read_models_position, read_models_as_of, first_hash FROM checkpoint;
            SELECT * FROM events ORDER BY position;
            SELECT * FROM cases ORDER BY stream;
            SELECT * FROM appointments ORDER BY stream, seq;
            SELECT * FROM deviations ORDER BY stream, seq;
            SELECT * FROM coordinator_workload ORDER BY coordinator_id;
            """, schema: schema ?? self.schema)
    }
}

/// The SQL blocks of the README's "Reporting in SQL" section, by their title comment.
func readmeQueries() throws -> [String: String] {
    let readme = try String(contentsOfFile: TestPostgres.repository + "/README.md", encoding: .utf8)
    var queries: [String: String] = [:]
    for block in readme.components(separatedBy: "```sql\n").dropFirst() {
        guard let end = block.range(of: "```") else { continue }
        let sql = String(block[..<end.lowerBound])
        guard sql.hasPrefix("-- "), let title = sql.split(separator: "\n").first else { continue }
        queries[String(title.dropFirst(3))] = sql
    }
    return queries
}

@Suite("iplog mirror into a real PostgreSQL", .serialized, .enabled(if: TestPostgres.installed, "PostgreSQL is not installed (Tools/scripts/test.sh installs it)"))
struct MirrorTests {
    @Test("The README's queries answer as iplog deviations, workload and cases do, at several dates")
    func queriesMatchTheReports() throws {
        let f = try MirrorFixture(cases: 300)
        let run = try f.mirror(["--once", "--json"])
        try #require(run.status == 0, "\(run.stderr)")
        let head = try #require(try f.cli(["stats"])["events"] as? Int)
        #expect(try f.sql("SELECT count(*), max(position) FROM events") == [["\(head)", "\(head)"]])

        let queries = try readmeQueries()
        let detail = try #require(queries["Open deviations on a date, as iplog deviations --as-of lists them"])
        let perUnit = try #require(queries["Open deviations per unit and rule on a date"])
        let trend = try #require(queries["The monthly trend: deviations open at each of the twelve month ends before a date"])
        let decisions = try #require(queries["Time to decision per unit, for applications decided in a period"])
        let caseloads = try #require(queries["Coordinators' caseloads (as of the mirror's last pass)"])

        for date in ["2024-03-31", "2024-09-30", "2025-01-15", "2025-06-30", "2025-12-31", "2026-11-23"] {
            let report = try f.cli(["deviations", "--as-of", date])
            let rows = try #require(report["deviations"] as? [[String: Any]])
            let expected = rows.map { r in
                ["stream", "rule", "ref", "since", "coordinatorId", "unit"].map { (r[$0] as? String) ?? "" }
            }
            let got = try f.sql(detail, variables: ["as_of": date]).map { Array($0.prefix(6)) }
            #expect(got == expected, "deviations as of \(date)")
            #expect(!expected.isEmpty || date == "2024-03-31")

            var counts: [String: Int] = [:]
            for r in expected { counts["\(r[5])\t\(r[1])", default: 0] += 1 }
            let grouped = try f.sql(perUnit, variables: ["as_of": date])
            #expect(Dictionary(uniqueKeysWithValues: grouped.map { ("\($0[0])\t\($0[1])", Int($0[2])!) }) == counts, "per unit and rule as of \(date)")
        }

        // The trend: each month end's count is the report's count on that day.
        let trendRows = try f.sql(trend, variables: ["as_of": "2025-12-15"])
        #expect(trendRows.count == 12)
        for row in trendRows {
            let report = try f.cli(["deviations", "--as-of", row[0]])
            #expect(Int(row[1]) == (report["deviations"] as? [Any])?.count, "trend at \(row[0])")
        }
        #expect(trendRows.first?[0] == "2024-12-31" && trendRows.last?[0] == "2025-11-30")

        // Time to decision, against `cases --json`.
        let cases = try #require(try f.cli(["cases"])["cases"] as? [[String: Any]])
        var days: [String: [Int]] = [:]
        for c in cases {
            guard let decided = (c["decidedOn"] as? String), let received = c["receivedOn"] as? String, let unit = c["unit"] as? String,
                  decided >= "2025-01-01", decided <= "2025-12-31" else { continue }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            let d = Int(formatter.date(from: decided)!.timeIntervalSince(formatter.date(from: received)!) / 86400)
            days[unit, default: []].append(d)
        }
        let decisionRows = try f.sql(decisions, variables: ["from": "2025-01-01", "to": "2025-12-31"])
        #expect(decisionRows.count == days.count && !days.isEmpty)
        for row in decisionRows {
            let all = try #require(days[row[0]]).sorted()
            #expect(Int(row[1]) == all.count, "decided in \(row[0])")
            #expect(Int(row[2]) == all[(all.count - 1) / 2], "median days in \(row[0])")
            #expect(Int(row[3]) == all.last, "longest in \(row[0])")
        }

        // Caseloads, against `workload --json` on the mirror's day (IPLOG_TODAY).
        let workload = try #require(try f.cli(["workload", "--as-of", "2026-11-23"])["coordinators"] as? [[String: Any]])
        let expectedLoads = workload.map { w in
            [w["unit"] as! String, w["coordinatorId"] as! String, "\(w["activeCases"] as! Int)", "\(w["openDeviations"] as! Int)",
             "\(w["meetingsLast90Days"] as! Int)", (w["trained"] as! Bool) ? "t" : "f"]
        }
        #expect(try f.sql(caseloads) == expectedLoads)
        #expect(expectedLoads.count > 5)
    }

    @Test("No person id and no free text reaches PostgreSQL; an erasure takes the person's pseudonym away at the next pass")
    func personalDataStaysInTheStore() throws {
        let f = try MirrorFixture(cases: 200)
        try #require(try f.mirror().status == 0)
        // Every person id and every sealed free-text value the store holds.
        let export = try f.sandbox.iplog(["export"])
        try #require(export.status == 0)
        var persons: [(stream: String, id: String)] = []
        var freeText: Set<String> = []
        // The catalogue's sealed members (DomainEvent.sealedFields): every string under them.
        let sealedKeys: Set<String> = ["grounds", "reason", "attendees", "description", "responsible", "summary", "transition", "resolution"]
        func collect(_ value: Any, sealed: Bool) {
            switch value {
            case let text as String where sealed && text.contains(" "): freeText.insert(text)  // free text, not ids or closed-list values
            case let items as [Any]: for item in items { collect(item, sealed: sealed) }
            case let object as [String: Any]: for (key, item) in object { collect(item, sealed: sealed || sealedKeys.contains(key)) }
            default: break
            }
        }
        for line in lines(export.stdout) {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let data = event["data"] as? [String: Any] ?? [:]
            if let id = data["personId"] as? String { persons.append((event["stream"] as! String, id)) }
            if (event["stream"] as? String)?.hasPrefix("case-") == true { collect(data, sealed: false) }
        }
        try #require(persons.count == 200 && freeText.count > 10)
        var dump = try f.pg.dump(schema: f.schema)
        try #require(dump.contains("case-000001") && dump.contains("Hjemmetjenesten"))
        for (_, id) in persons { #expect(!dump.contains(id)) }
        for text in freeText { #expect(!dump.contains(text), "free text \(text)") }

        // A person whose cases are all closed is erased; the next pass removes their pseudonym.
        let statuses = try #require(try f.cli(["cases"])["cases"] as? [[String: Any]])
        let closed = Set(statuses.filter { ["closed", "denied"].contains($0["status"] as? String) }.map { $0["stream"] as! String })
        let byPerson = Dictionary(grouping: persons, by: \.id)
        let (person, theirs) = try #require(byPerson.first { _, cases in cases.allSatisfy { closed.contains($0.stream) } })
        let pseudonyms = try f.sql("SELECT DISTINCT person FROM cases WHERE stream = ANY(string_to_array(:'streams', ','))",
                                   variables: ["streams": theirs.map(\.stream).joined(separator: ",")]).map { $0[0] }
        try #require(pseudonyms.count == 1 && pseudonyms[0].count == 64)
        #expect(dump.contains(pseudonyms[0]))
        let erase = try f.sandbox.iplog(["erase", "--person", person, "--reason", "retention ended"])
        try #require(erase.status == 0, "\(erase.stderr)")
        let pass = try f.mirror(["--once", "--json"])
        try #require(pass.status == 0, "\(pass.stderr)")
        #expect((pass.json as? [String: Any])?["erased"] as? Int == theirs.count)
        dump = try f.pg.dump(schema: f.schema)
        #expect(!dump.contains(pseudonyms[0]))
        #expect(!dump.contains(person))
        #expect(try f.sql("SELECT count(*) FROM cases WHERE person IS NULL") == [["\(theirs.count)"]])
    }

    @Test("Killed ten times during a catch-up of 100k events, the mirror ends with the tables of a mirror made in one go")
    func killedMirrorResumes() throws {
        let f = try MirrorFixture(cases: 2400, seed: 11)
        let head = try #require(try f.cli(["stats"])["events"] as? Int)
        try #require(head >= 100_000, "\(head) events")
        // The read models are built once, before the timing of the kills starts.
        try #require(try f.sandbox.iplog(["projections", "rebuild"]).status == 0)
        let reference = "ref_" + f.schema
        try #require(try f.mirror(["--once"], schema: reference).status == 0)

        // Ten moments spread over the catch-up: one before anything is
        // committed (connecting, migrating), eight at random positions of the
        // log, each a random few milliseconds after the commit that passes it,
        // and one after the last batch of events, while the read models' rows
        // are being written.
        var generator = SeededGenerator(seed: 2026)
        let positions = (0..<8).map { _ in Int.random(in: 2_500...(head - 2_500), using: &generator) }.sorted()
        let moments: [Int?] = [nil] + positions.map { Optional($0) } + [head]
        func checkpoint() throws -> Int {
            Int(try f.sql("SELECT CASE WHEN to_regclass('checkpoint') IS NULL THEN 0 ELSE (SELECT coalesce(max(position), 0) FROM checkpoint) END").first?.first ?? "0") ?? 0
        }
        var kills = 0
        for target in moments {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: iplogBinary)
            process.arguments = ["mirror", "--store", f.sandbox.store, "--postgres", f.pg.url, "--schema", f.schema, "--once", "--batch", "1000"]
            process.environment = f.pg.environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if let target {
                let deadline = Date().addingTimeInterval(60)
                while process.isRunning, Date() < deadline, (try? checkpoint()) ?? 0 < target { usleep(5_000) }
                usleep(UInt32.random(in: 0...60_000, using: &generator))
            } else {
                usleep(UInt32.random(in: 20_000...120_000, using: &generator))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "the mirror finished before the kill at \(target.map(String.init) ?? "start")")
            kills += 1
            // Whatever it committed is whole: positions 1…checkpoint, each once.
            guard try f.sql("SELECT to_regclass('checkpoint') IS NOT NULL") == [["t"]] else { continue }  // killed before its tables
            let row = try #require(try f.sql("""
                SELECT (SELECT coalesce(max(position), 0) FROM checkpoint), count(*), coalesce(max(position), 0), count(DISTINCT position) FROM events
                """).first)
            #expect(row[0] == row[1] && row[1] == row[2] && row[2] == row[3], "after kill \(kills): \(row)")
            // …and each of those rows is the one a mirror made in one go holds.
            let digest = "SELECT md5(coalesce(string_agg(e::text, ',' ORDER BY position), '')) FROM events e WHERE position <= \(row[0])"
            #expect(try f.sql(digest) == (try f.sql(digest, schema: reference)), "after kill \(kills)")
        }
        #expect(kills == 10)
        let finish = try f.mirror(["--once"])
        try #require(finish.status == 0, "\(finish.stderr)")
        #expect(try f.tables() == (try f.tables(schema: reference)))
        #expect(try f.sql("SELECT count(*) FROM events") == [["\(head)"]])
    }

    @Test("Following: new commits arrive within seconds; a stopped server is retried with backoff and resumed; SIGTERM exits 0")
    func followsThroughAnOutage() throws {
        let server = try TestPostgres()
        let f = try MirrorFixture(cases: 40, server: server)
        let log = f.sandbox.directory + "/mirror.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: iplogBinary)
        process.arguments = ["mirror", "--store", f.sandbox.store, "--postgres", server.url, "--schema", f.schema]
        process.environment = server.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        func waitFor(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if (try? condition()) == true { return }
                usleep(100_000)
            }
            Issue.record("waited \(seconds) s for \(what); the mirror said: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            throw PostgresFailure(what)
        }
        let head = try #require(try f.cli(["stats"])["events"] as? Int)
        try waitFor("the catch-up") { try f.sql("SELECT position FROM checkpoint") == [["\(head)"]] }

        func register(_ id: String) throws {
            let run = try f.sandbox.iplog(["append", "--stream", "coordinator-\(id)", "--type", "CoordinatorRegistered", "--data",
                                           #"{"coordinatorId":"\#(id)","name":"Test Koordinator","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2026-11-20"}"#])
            try #require(run.status == 0, "\(run.stderr)")
        }
        // A second mirror of the same schema while this one follows: refused, not interleaved.
        let second = try f.mirror(["--once"])
        #expect(second.status == 1 && second.stderr.hasPrefix("[mirrorBusy]"), "\(second.stderr)")
        try register("9901")
        let appended = Date()
        try waitFor("the new event") { try f.sql("SELECT count(*) FROM events WHERE stream = 'coordinator-9901'") == [["1"]] }
        #expect(Date().timeIntervalSince(appended) < 5)
        try waitFor("its workload row") { try f.sql("SELECT count(*) FROM coordinator_workload WHERE coordinator_id = '9901'") == [["1"]] }

        // The server goes away: the mirror says so and retries; an event committed meanwhile arrives once it is back.
        try server.stop()
        try register("9902")
        try waitFor("the mirror's report of the outage") {
            (try String(contentsOfFile: log, encoding: .utf8)).contains("[postgresUnreachable]")
        }
        usleep(3_000_000)
        let retries = try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "retrying in").count - 1
        #expect(retries >= 1 && retries <= 4, "\(retries) retries in about 3 s: backoff, not a storm")
        try server.startAgain()
        try waitFor("the event committed during the outage", seconds: 40) {
            try f.sql("SELECT count(*) FROM events WHERE stream = 'coordinator-9902'") == [["1"]]
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("is back"))
        #expect(try f.sql("SELECT count(*), max(position) FROM events") == [["\(head + 2)", "\(head + 2)"]])

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        try? server.stop()
    }

    @Test("A wrong URL, password, port or schema: a clear error and exit code at once, without retrying")
    func badTargets() throws {
        let f = try MirrorFixture(cases: 5)
        func run(_ url: String, _ extra: [String] = [], password: String? = nil) throws -> (Run, TimeInterval) {
            var env = f.pg.environment
            env["PGPASSWORD"] = password ?? f.pg.password
            let start = Date()
            let r = try runBinary(iplogBinary, ["mirror", "--store", f.sandbox.store, "--postgres", url, "--schema", f.schema] + extra,
                                  in: f.sandbox.directory, environment: env)
            return (r, Date().timeIntervalSince(start))
        }
        // A wrong password, following: it ends at once (no retry loop), the password nowhere in what it says.
        let (refused, took) = try run(f.pg.url, [], password: "not-the-password")
        #expect(refused.status == 1 && refused.stderr.hasPrefix("[postgresRefused]"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("not-the-password") && took < 10)
        // The password in the URL is never printed either.
        let inURL = f.pg.url.replacingOccurrences(of: "iplog@", with: "iplog:secret-in-url@")
        let (refusedURL, _) = try run(inURL, ["--once"], password: "")
        #expect(refusedURL.status == 1 && refusedURL.stderr.contains("[postgresRefused]") && !refusedURL.stderr.contains("secret-in-url"))
        // Nobody listening.
        let closed = f.pg.url.replacingOccurrences(of: ":\(f.pg.port)/", with: ":1/")
        let (unreachable, took2) = try run(closed)
        #expect(unreachable.status == 1 && unreachable.stderr.hasPrefix("[postgresUnreachable]"), "\(unreachable.stderr)")
        #expect(took2 < 15)
        // No such database.
        let (noDatabase, _) = try run(f.pg.url.replacingOccurrences(of: "/iplog?", with: "/nosuchdb?"), ["--once"])
        #expect(noDatabase.status == 1 && noDatabase.stderr.contains("[postgresRefused]") && noDatabase.stderr.contains("nosuchdb"))
        // Bad input: exit 2, nothing tried.
        for (url, extra, what) in [("mysql://x@h/db", [String](), "postgres:// URL"), ("postgres://127.0.0.1/db", [], "no user"),
                                   (f.pg.url, ["--schema", "Drop Table"], "--schema"), (f.pg.url + "&foo=1", [], "foo"),
                                   (f.pg.url, ["--as-of", "2026-02-30"], "--as-of")] {
            let (bad, _) = try run(url, ["--once"] + extra)
            #expect(bad.status == 2 && bad.stderr.hasPrefix("[invalidShape]") && bad.stderr.contains(what), "\(url) \(extra): \(bad.stderr)")
        }
        #expect(try f.pg.psql("SELECT count(*) FROM information_schema.schemata WHERE schema_name = '\(f.schema)'") == "0\n")
    }

    @Test("A schema holds one store: another store's mirror into it is refused; many stores share one database")
    func schemasKeepStoresApart() throws {
        let a = try MirrorFixture(cases: 20, seed: 1)
        let b = try MirrorFixture(cases: 30, seed: 2)
        try #require(try a.mirror().status == 0)
        let into = try b.mirror(["--once"], schema: a.schema)
        #expect(into.status == 1 && into.stderr.hasPrefix("[mirrorOfAnotherStore]"), "\(into.stderr)")
        try #require(try b.mirror().status == 0)
        let countA = try #require(try a.cli(["stats"])["events"] as? Int), countB = try #require(try b.cli(["stats"])["events"] as? Int)
        #expect(try a.sql("SELECT count(*) FROM events") == [["\(countA)"]])
        #expect(try b.sql("SELECT count(*) FROM events") == [["\(countB)"]])
        // Running again changes nothing and copies nothing.
        let again = try a.mirror(["--once", "--json"])
        #expect((again.json as? [String: Any])?["events"] as? Int == 0)
        #expect(try a.sql("SELECT version FROM iplog_migrations ORDER BY version") == [["1"], ["2"]])
    }

    @Test("From a remote iplog serve: its feed into a standby store, and the same tables as a mirror of the store itself")
    func mirrorsARemoteService() throws {
        let f = try MirrorFixture(cases: 60)
        try #require(try f.mirror().status == 0)
        let feed = try f.cli(["users", "add", "speil", "--role", "integration"])
        let token = try #require(feed["token"] as? String)
        let coordinator = try #require(try f.cli(["users", "add", "k1", "--role", "coordinator", "--coordinator", "0001"])["token"] as? String)
        let log = f.sandbox.directory + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: iplogBinary)
        server.arguments = ["serve", "--store", f.sandbox.store, "--port", "0"]
        server.environment = testEnvironment
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle(forWritingAtPath: log)
        try server.run()
        defer { kill(server.processIdentifier, SIGTERM); server.waitUntilExit() }
        var address: String?
        for _ in 0..<300 where address == nil {
            usleep(50_000)
            // Only a whole line: the port must not be read while it is being written.
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            address = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                .first { $0.contains("listening on http://") }.map { String($0.split(separator: " ").last!) }
        }
        let url = try #require(address)
        let standby = f.sandbox.directory + "/standby"
        let remote = "remote_" + f.schema
        func mirrorFrom(_ token: String, _ extra: [String] = []) throws -> Run {
            try runBinary(iplogBinary, ["mirror", "--from", url, "--token", token, "--store", standby, "--postgres", f.pg.url, "--schema", remote, "--once"] + extra,
                          in: f.sandbox.directory, environment: f.pg.environment)
        }
        let run = try mirrorFrom(token, ["--batch", "3000"])
        try #require(run.status == 0, "\(run.stderr)")
        // Everything but the pseudonyms (the standby's secret is its own) and the chain's first hash.
        let compare = """
            SELECT position, read_models_position, read_models_as_of FROM checkpoint;
            SELECT * FROM events ORDER BY position;
            SELECT stream, status, unit, coordinator_id, received_on, decided_on, closed_on, version, facts FROM cases ORDER BY stream;
            SELECT * FROM appointments ORDER BY stream, seq;
            SELECT * FROM deviations ORDER BY stream, seq;
            SELECT * FROM coordinator_workload ORDER BY coordinator_id;
            SELECT count(*) FROM cases WHERE person IS NULL;
            """
        #expect(try f.pg.psql(compare, schema: remote) == (try f.pg.psql(compare, schema: f.schema)))
        // A new event in the primary arrives at the next pass; a pass with nothing new copies nothing.
        let appended = try f.sandbox.iplog(["append", "--stream", "coordinator-9901", "--type", "CoordinatorRegistered", "--data",
                                            #"{"coordinatorId":"9901","name":"Test Koordinator","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2026-11-20"}"#])
        try #require(appended.status == 0)
        #expect(try mirrorFrom(token).status == 0)
        #expect(try f.sql("SELECT count(*) FROM events WHERE stream = 'coordinator-9901'", schema: remote) == [["1"]])
        // The standby verifies as a store of its own.
        #expect(try runIplog(["verify", "--store", standby], in: f.sandbox.directory).status == 0)
        // A token that may not read the feed: refused, at once.
        let refused = try mirrorFrom(coordinator)
        #expect(refused.status == 1 && refused.stderr.hasPrefix("[sourceRefused]"), "\(refused.stderr)")
        #expect(!refused.stderr.contains(coordinator))
    }

    @Test("Other deviation periods in config.json: the next pass makes every case's deviation rows again")
    func changedPeriodsRemakeTheRows() throws {
        let f = try MirrorFixture(cases: 120)
        try #require(try f.mirror().status == 0)
        let detail = try #require(try readmeQueries()["Open deviations on a date, as iplog deviations --as-of lists them"])
        func matches(_ date: String) throws -> Bool {
            let rows = try #require(try f.cli(["deviations", "--as-of", date])["deviations"] as? [[String: Any]])
            let expected = rows.map { r in ["stream", "rule", "ref", "since", "coordinatorId", "unit"].map { (r[$0] as? String) ?? "" } }
            return try f.sql(detail, variables: ["as_of": date]).map { Array($0.prefix(6)) } == expected
        }
        let before = try f.sql("SELECT stream, seq, since FROM deviations WHERE rule = 'meetingOverdue' ORDER BY stream, seq")
        try #"{"deviations": {"meetingOverdue": "2 months", "minutesMissing": "3 days"}}"#.write(toFile: f.sandbox.store + "/config.json", atomically: true, encoding: .utf8)
        #expect(try matches("2025-12-31") == false)  // the rows of the old periods no longer answer
        let pass = try f.mirror(["--once", "--json"])
        try #require(pass.status == 0, "\(pass.stderr)")
        #expect((pass.json as? [String: Any])?["events"] as? Int == 0)
        #expect(try f.sql("SELECT stream, seq, since FROM deviations WHERE rule = 'meetingOverdue' ORDER BY stream, seq") != before)
        for date in ["2025-06-30", "2025-12-31", "2026-11-23"] { #expect(try matches(date), "as of \(date)") }
    }

    @Test("COPY text escapes what would break a row", arguments: [("a\tb", "a\\tb"), ("a\nb", "a\\nb"), ("back\\slash", "back\\\\slash"), ("r\r", "r\\r")])
    func copyEscaping(input: String, expected: String) {
        #expect(Mirror.copyField(input) == expected)
    }
}

/// A small deterministic generator for the kill test's moments.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
