import Application
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Testing

@Suite(.serialized) struct PageTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/pages.py").path

    /// The pages in a real headless Chromium: each role's start page, a case
    /// page, another's case refused, a wrong token, sign-out (Browser/pages.py).
    @Test func thePagesInAHeadlessChromium() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let port = try #require(client.port)
            let shots = fixture.directory + "/screenshots"
            try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
            let arguments = [Self.script, "http://127.0.0.1:\(port)", shots, fixture.tokens[.coordinator]!, "case-000001",
                             fixture.tokens[.unitManager]!, "case-000002"]
            let (status, output) = await blocking { () -> (Int32, String) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3"] + arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                do { try process.run() } catch { return (-1, "\(error)") }
                let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, text)
            }
            #expect(status == 0, "\(output)")
            #expect(FileManager.default.fileExists(atPath: shots + "/mine-saker.png"), "a screenshot for a person to look at")
            if let keep = ProcessInfo.processInfo.environment["IPLOG_KEEP_SCREENSHOTS"] {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: shots)) ?? [] {
                    try? FileManager.default.removeItem(atPath: keep + "/" + name)
                    try? FileManager.default.copyItem(atPath: shots + "/" + name, toPath: keep + "/" + name)
                }
            }
        }
    }

    /// The session cookie is HttpOnly, SameSite=Strict, Secure behind TLS and
    /// expires; a form without its CSRF token is refused and changes nothing.
    @Test func sessionsAndCSRF() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let form = try await client.execute(uri: "/login", method: .get)
            #expect(form.status == .ok && form.text.contains(#"<html lang="nb">"#))
            let loginCookie = try #require(form.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let csrf = try #require(form.text.range(of: #"name="csrf" value=""#).map { String(form.text[$0.upperBound...].prefix(64)) })
            let body = "csrf=\(csrf)&token=\(fixture.tokens[.coordinator]!)"
            let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: loginCookie]
            // Without the form's token, or with another: refused, no session.
            let forged = try await client.execute(uri: "/login", method: .post, headers: formHeaders,
                                                  body: ByteBuffer(string: "csrf=forged&token=\(fixture.tokens[.coordinator]!)"))
            #expect(forged.status == .forbidden && forged.headers[.setCookie] == nil)
            let signedIn = try await client.execute(uri: "/login", method: .post, headers: formHeaders.merging([.init("X-Forwarded-Proto")!: "https"]),
                                                    body: ByteBuffer(string: body))
            #expect(signedIn.status == .seeOther)
            let cookie = try #require(signedIn.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Max-Age=28800", "Path=/"] {
                #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
            }
            let session: HTTPFields = [.cookie: String(cookie.split(separator: ";")[0])]
            let start = try await client.execute(uri: "/", method: .get, headers: session)
            #expect(start.status == .ok && start.text.contains("<h1>Mine saker</h1>"))
            #expect(start.headers[.cacheControl] == "no-store")
            // Sign-out without the session's CSRF token: refused, still signed in.
            let out = try await client.execute(uri: "/logout", method: .post, headers: session.merging([.contentType: "application/x-www-form-urlencoded"]),
                                               body: ByteBuffer(string: "csrf=nope"))
            #expect(out.status == .forbidden)
            #expect(try await client.execute(uri: "/", method: .get, headers: session).status == .ok)
            // A form posted without the session's CSRF token: refused, nothing written.
            let before = try await client.execute(uri: "/healthz", method: .get).json?["position"]
            let forgedForm = try await client.execute(uri: "/cases/case-000001/meetings", method: .post,
                                                  headers: session.merging([.contentType: "application/x-www-form-urlencoded"]),
                                                  body: ByteBuffer(string: "csrf=forged&scheduledFor=2026-12-20"))
            #expect(forgedForm.status == .forbidden)
            #expect(try await client.execute(uri: "/healthz", method: .get).json?["position"] == before)
            // The API takes no cookie: a cookie is not a token.
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: session).status == .unauthorized)
            // The workload page, within the role's scope: the coordinator's own row.
            let workload = try await client.execute(uri: "/reports/workload", method: .get, headers: session)
            #expect(workload.status == .ok && workload.text.contains("<td>0042</td>") && !workload.text.contains("<td>0043</td>"))
            // The dashboard says whose deviations it counts: the coordinator's cases, not the municipality's; no unit, no ", enhet".
            let dashboard = try await client.execute(uri: "/reports/deviations", method: .get, headers: session)
            #expect(dashboard.status == .ok && dashboard.text.contains("<h1>Fristbrudd i dine saker</h1>"))
            #expect(!dashboard.text.contains(", enhet .") && !workload.text.contains(", enhet ."))
            let oneUnit = try await client.execute(uri: "/reports/deviations?unit=Hjemmetjenesten", method: .get, headers: session)
            #expect(oneUnit.text.contains(", enhet Hjemmetjenesten."))
            // Not signed in: to the sign-in page.
            let anonymous = try await client.execute(uri: "/cases/case-000001", method: .get)
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/login")
        }
    }
}

/// The individual plan as a document: the page and `iplog plan --html`.
@Suite(.serialized) struct PlanDocumentTests {
    @Test func thePlanAsOneSelfContainedDocument() async throws {
        let fixture = try ServiceFixture()
        try #"{"contact": "Koordinerende enhet, Rådhuset, telefon 12 34 56 78"}"#.write(toFile: fixture.store + "/config.json", atomically: true, encoding: .utf8)
        try await fixture.withService { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let events = #"""
            [{"type":"GroupMemberAdded","data":{"memberId":"gm-1","role":"fastlege","organisation":"Legekontoret","addedOn":"2026-03-05"}},
             {"type":"PlanEstablished","data":{"establishedOn":"2026-03-10","goals":[{"goalId":"g-1","description":"Gå til butikken alene <script>alert(1)</script>","horizon":"short"},{"goalId":"g-2","description":"Egen bolig","horizon":"long"}],"measures":[{"measureId":"t-1","description":"Fysioterapi to ganger i uken","responsible":"Fysioterapeut Hansen"},{"measureId":"t-2","description":"Medisingjennomgang","responsible":"gm-1"}],"nextEvaluationDue":"2026-09-10"}},
             {"type":"GoalAchieved","data":{"goalId":"g-1","achievedOn":"2026-06-01"}},
             {"type":"TransitionPlanned","data":{"transition":"Fra barnehage til skole","plannedFor":"2027-08-15"}}]
            """#
            let appended = try await client.execute(uri: "/v1/streams/case-000001/events", method: .post,
                                                    headers: fixture.headers(.coordinator).merging(json), body: ByteBuffer(string: events))
            #expect(appended.status == .created, "\(appended.text)")
            let page = try await client.execute(uri: "/cases/case-000001/plan", method: .get, headers: fixture.headers(.coordinator))
            #expect(page.status == .ok)
            let html = page.text
            for text in [#"<html lang="nb">"#, "Individuell plan", "Legekontoret", "Egen bolig", "lang sikt", "01.06.2026", "Fysioterapeut Hansen",
                         "10.09.2026", "Fra barnehage til skole", "fastlege, Legekontoret", "Rådhuset, telefon 12 34 56 78", "15.08.2027", "individuell plan, gitt 10.02.2026", ServiceFixture.adult,
                         "size: A4", "counter(page)", "break-inside: avoid"] {
                #expect(html.contains(text), "the plan shows \(text)")
            }
            #expect(html.contains("Gå til butikken alene &lt;script&gt;"), "free text as text")
            #expect(!html.contains("<script"), "no script at all")
            #expect(!html.contains("src=") && !html.contains("href=\"http") && !html.contains("url("), "nothing fetched from outside")
            // The read is in the access log, with the person id shown.
            #expect(try await fixture.reads(of: ServiceFixture.adult, client).last?.personIdsShown == true)
            // Scopes: another coordinator's case is not found; a unit manager sees no plan.
            #expect(try await client.execute(uri: "/cases/case-000002/plan", method: .get, headers: fixture.headers(.coordinator)).status == .notFound)
            #expect(try await client.execute(uri: "/cases/case-000001/plan", method: .get, headers: fixture.headers(.unitManager)).status == .forbidden)
        }
        // The same document from the command line, written 0600.
        let file = fixture.directory + "/plan.html"
        let run = try runIplog(["plan", "case-000001", "--html", "--out", file, "--store", fixture.store, "--actor", "arkiv"])
        #expect(run.status == 0)
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written.contains("Egen bolig") && written.contains(ServiceFixture.adult))
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }
}

/// `iplog report --html`: the dashboard as a file to mail.
@Suite struct ReportDocumentTests {
    @Test func theReportIsSelfContainedWithoutPersonIdsAndAgreesWithTheJSONReport() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store", sample = directory + "/sample.jsonl"
        #expect(try runIplog(["sample", "--cases", "80", "--out", sample]).status == 0)
        #expect(try runIplog(["import", sample, "--store", store]).status == 0)
        let persons = Set(try String(contentsOfFile: sample, encoding: .utf8).matches(of: /"personId":"(\d{11})"/).map { String($0.1) })
        #expect(!persons.isEmpty)
        for unit in [nil, "Rehabilitering"] as [String?] {
            let file = directory + "/report-\(unit ?? "all").html"
            let unitArguments = unit.map { ["--unit", $0] } ?? []
            let run = try runIplog(["report", "--html", "--as-of", "2025-12-31", "--months", "24", "--out", file, "--store", store] + unitArguments)
            #expect(run.status == 0)
            let html = try String(contentsOfFile: file, encoding: .utf8)
            #expect(html.contains(#"<html lang="nb">"#) && html.contains("siste 24 måneder") && html.contains(#"<svg xmlns="http://www.w3.org/2000/svg" role="img""#))
            #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http") && !html.contains("url("), "nothing fetched, nothing run")
            #expect(!html.contains("<form") && !html.contains(#"href="/"#) && !html.contains(#"href="http"#), "a file has no forms and no links out")
            #expect(html.contains("Åpne fristbrudd etter enhet") == (unit == nil), "every unit in the municipality's report")
            #expect(html.contains(", enhet Rehabilitering.") == (unit != nil) && !html.contains(", enhet ."), "the unit after the date, only when there is one")
            for person in persons { #expect(!html.contains(person), "no person id") }
            #expect(!html.contains("*****"), "not even masked ones")
            let report = try runIplog(["deviations", "--as-of", "2025-12-31", "--json", "--store", store] + unitArguments)
            let count = try #require(JSONParser.parse(Array(report.output.utf8))["deviations"]?.arrayValue?.count)
            #expect(html.contains("Åpne fristbrudd etter regel (\(count) i alt)"), "the same total as the JSON report: \(count)")
        }
    }
}
