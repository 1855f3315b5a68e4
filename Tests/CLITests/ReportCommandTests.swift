import Foundation
import Testing

/// A sandbox with a small generated municipality imported.
func municipality(cases: Int = 80) throws -> Sandbox {
    let box = try Sandbox()
    let sample = box.directory + "/sample.jsonl"
    #expect(try runIplog(["sample", "--cases", String(cases), "--out", sample], in: box.directory).status == 0)
    let imported = try box.iplog(["import", sample])
    #expect(imported.status == 0, "\(imported.stderr)")
    return box
}

struct ReportCommandTests {
    /// Business dates are Norway's: without `IPLOG_TODAY`, today is the date in
    /// Oslo whatever the machine's zone. The zone is one whose date differs
    /// from Oslo's at this moment, so a binary that fell back to the machine's
    /// zone (as a static binary without the named zones would) shows here.
    @Test func todayIsTheDateInOsloWhateverTheMachinesZone() throws {
        let box = try municipality(cases: 5)
        func date(in zone: String) throws -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = try #require(TimeZone(identifier: zone))
            let c = calendar.dateComponents([.year, .month, .day], from: Date())
            return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        }
        let oslo = try date(in: "Europe/Oslo")
        let zone = try #require(try ["Pacific/Kiritimati", "Pacific/Pago_Pago"].first { try date(in: $0) != oslo })
        var environment = testEnvironment
        environment["IPLOG_TODAY"] = nil
        environment["TZ"] = zone
        let run = try runBinary(iplogBinary, ["deviations", "--json", "--store", box.store], in: box.directory, environment: environment)
        guard try date(in: "Europe/Oslo") == oslo else { return }  // Oslo's midnight came during the run
        #expect(run.status == 0, "\(run.stderr)")
        #expect((run.json as? [String: Any])?["asOf"] as? String == oslo, "with TZ=\(zone)")
    }

    @Test func deviationsAsJSONCSVAndForPeople() throws {
        let box = try municipality()
        let json = try box.iplog(["deviations", "--as-of", "2025-06-30", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let report = json.json as? [String: Any]
        #expect(report?["asOf"] as? String == "2025-06-30")
        let rows = report?["deviations"] as? [[String: Any]] ?? []
        #expect(!rows.isEmpty)
        for row in rows {
            for key in ["stream", "rule", "since", "ref", "coordinatorId", "unit", "daysOpen"] { #expect(row.keys.contains(key), "\(key)") }
            #expect((row["since"] as! String) <= "2025-06-30")
        }
        let onlyItems = try box.iplog(["deviations", "--as-of", "2025-06-30", "--rule", "actionItemOverdue", "--json"]).json as? [String: Any]
        let itemRows = onlyItems?["deviations"] as? [[String: Any]] ?? []
        #expect(itemRows.count == rows.filter { $0["rule"] as? String == "actionItemOverdue" }.count)
        let csv = try box.iplog(["deviations", "--as-of", "2025-06-30", "--csv"])
        #expect(lines(csv.stdout).first == "stream,rule,since,ref,coordinatorId,unit,daysOpen")
        #expect(lines(csv.stdout).count == rows.count + 1)
        let human = try box.iplog(["deviations", "--as-of", "2025-06-30"])
        #expect(human.stdout.hasPrefix("\(rows.count) deviations open on 2025-06-30"))
        let closed = try box.iplog(["deviations", "--closed-from", "2025-01-01", "--closed-to", "2025-06-30", "--json"]).json as? [String: Any]
        for row in closed?["closed"] as? [[String: Any]] ?? [] {
            let end = row["endedOn"] as! String
            #expect(end >= "2025-01-01" && end <= "2025-06-30" && (row["daysOpen"] as! Int) > 0)
        }
        let bad = try box.iplog(["deviations", "--rule", "lateCoffee"])
        #expect(bad.status == 2)
    }

    @Test func caseCasesAndWorkload() throws {
        let box = try municipality()
        let one = try box.iplog(["case", "case-000001", "--json"]).json as? [String: Any]
        for key in ["stream", "status", "coordinatorId", "unit", "version", "personId", "openDeviations"] { #expect(one?.keys.contains(key) == true, "\(key)") }
        let human = try box.iplog(["case", "case-000001"])
        #expect(human.stdout.contains("*****"))
        let all = try box.iplog(["cases", "--json"]).json as? [String: Any]
        let cases = all?["cases"] as? [[String: Any]] ?? []
        #expect(cases.count == 80)
        let active = try box.iplog(["cases", "--status", "active", "--json"]).json as? [String: Any]
        #expect((active?["cases"] as? [[String: Any]])?.count == cases.filter { $0["status"] as? String == "active" }.count)
        #expect(try box.iplog(["cases", "--status", "sleeping"]).status == 2)

        let workload = try box.iplog(["workload", "--as-of", "2025-12-31", "--json"]).json as? [String: Any]
        let coordinators = workload?["coordinators"] as? [[String: Any]] ?? []
        try #require(!coordinators.isEmpty)
        for key in ["coordinatorId", "unit", "activeCases", "trained", "meetingsLast90Days", "openDeviations"] {
            #expect(coordinators[0].keys.contains(key), "\(key)")
        }
        let units = workload?["units"] as? [[String: Any]] ?? []
        let unitTotal: Int = units.map { $0["activeCases"] as! Int }.reduce(0, +)
        let coordinatorTotal: Int = coordinators.map { $0["activeCases"] as! Int }.reduce(0, +)
        #expect(unitTotal == coordinatorTotal && unitTotal > 0)
        #expect(try box.iplog(["case", "case-999999"]).status == 2)
    }

    @Test func projectionsRebuildAndStatus() throws {
        let box = try municipality(cases: 40)
        let rebuilt = try box.iplog(["projections", "rebuild", "--json"]).json as? [String: Any]
        let events = rebuilt?["events"] as? Int
        let list = rebuilt?["projections"] as? [[String: Any]] ?? []
        #expect(list.map { $0["name"] as! String } == ["caseStatus", "deviations", "coordinatorWorkload"])
        #expect(list.allSatisfy { $0["position"] as? Int == events })
        let status = try box.iplog(["projections", "status"])
        #expect(status.status == 0 && status.stdout.contains("current"))
        #expect(try box.iplog(["projections", "rebuild", "nonsense"]).status == 2)
    }

    @Test func theConfigFileChangesThePeriods() throws {
        let box = try municipality(cases: 40)
        let before = (try box.iplog(["deviations", "--as-of", "2025-12-31", "--rule", "planIncomplete", "--json"]).json as? [String: Any])?["deviations"] as? [[String: Any]] ?? []
        try #"{"deviations": {"planIncomplete": "53 days"}}"#.write(toFile: box.store + "/config.json", atomically: true, encoding: .utf8)
        let shown = try box.iplog(["config", "show", "--json"]).json as? [String: Any]
        #expect((shown?["deviations"] as? [String: String])?["planIncomplete"] == "53 days")
        #expect((shown?["deviations"] as? [String: String])?["decisionOverdue"] == "8 weeks")
        let after = (try box.iplog(["deviations", "--as-of", "2025-12-31", "--rule", "planIncomplete", "--json"]).json as? [String: Any])?["deviations"] as? [[String: Any]] ?? []
        // A longer period: each one still open was open before, and opened 23 days later.
        #expect(!before.isEmpty, "the sample must have incomplete plans on that date, or this proves nothing")
        #expect(after.count <= before.count)
        let earlier = Dictionary(uniqueKeysWithValues: before.map { ("\($0["stream"]!)/\($0["ref"]!)", $0["since"] as! String) })
        for row in after {
            let key = "\(row["stream"]!)/\(row["ref"]!)"
            guard let was = earlier[key] else { Issue.record("\(key) was not open before"); continue }
            let shift = Calendar(identifier: .gregorian).dateComponents([.day], from: isoDate(was), to: isoDate(row["since"] as! String)).day
            #expect(shift == 23)
        }
        try #"{"deviations": {"minutesMissing": "soon"}}"#.write(toFile: box.store + "/config.json", atomically: true, encoding: .utf8)
        let bad = try box.iplog(["config", "show"])
        #expect(bad.status == 2 && bad.stderr.contains("deviations.minutesMissing"))
    }

    @Test func theRegistryExtractIsACSVPerPerson() throws {
        let box = try municipality(cases: 60)
        let extract = try box.iplog(["registry-extract", "--year", "2025"])
        #expect(extract.status == 0)
        let rows = lines(extract.stdout)
        #expect(rows.first == "personId,year,individualPlan,coordinator")
        for row in rows.dropFirst() {
            let f = row.split(separator: ",")
            #expect(f.count == 4 && f[0].count == 11 && f[1] == "2025" && ["true", "false"].contains(String(f[2])))
        }
        let persons = Set(rows.dropFirst().map { $0.split(separator: ",")[0] })
        #expect(persons.count == rows.count - 1 && persons.count > 30)
        let file = box.directory + "/kpr.csv"
        #expect(try box.iplog(["registry-extract", "--year", "2025", "--out", file]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as! NSNumber
        #expect(mode.intValue == 0o600)
    }
}

func isoDate(_ text: String) -> Date {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd"
    f.timeZone = TimeZone(identifier: "UTC")
    return f.date(from: text)!
}
