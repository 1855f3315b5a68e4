import Application
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Testing

/// Bad input gets its 4xx and the contract's error object, nothing is
/// written, and the service goes on serving others.
@Suite(.serialized) struct BadInputTests {
    @Test func eachBadRequestGetsItsAnswerAndWritesNothing() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let headers = fixture.headers(.integration).merging([.contentType: "application/json"])
            func head() async throws -> Int64? {
                let page = try await client.execute(uri: "/healthz", method: .get)
                return page.json?["position"]?.int64Value
            }
            let before = try await head()
            let meeting = #"{"type":"MeetingScheduled","data":{"meetingId":"m-1","scheduledFor":"2026-12-20"}}"#
            let cases: [(String, String, HTTPFields, String, Int, String)] = [
                ("malformed JSON", "/v1/streams/case-000001/events", headers, #"{"type": "MeetingScheduled", "data": {"#, 400, "invalidShape"),
                ("not an object", "/v1/streams/case-000001/events", headers, "42", 400, "invalidShape"),
                ("empty array", "/v1/streams/case-000001/events", headers, "[]", 400, "invalidShape"),
                ("unknown type", "/v1/streams/case-000001/events", headers, #"{"type":"MeetingHold","data":{}}"#, 400, "invalidShape"),
                ("missing field", "/v1/streams/case-000001/events", headers, #"{"type":"MeetingScheduled","data":{"meetingId":"m-1"}}"#, 400, "invalidShape"),
                ("unknown field", "/v1/streams/case-000001/events", headers, #"{"type":"MeetingScheduled","eventID":"x","data":{}}"#, 400, "invalidShape"),
                ("a date that does not exist", "/v1/streams/case-000001/events", headers,
                 #"{"type":"MeetingScheduled","data":{"meetingId":"m-1","scheduledFor":"2026-02-30"}}"#, 400, "invalidDate"),
                ("another stream in the body", "/v1/streams/case-000001/events", headers,
                 #"{"stream":"case-000002","type":"MeetingScheduled","data":{"meetingId":"m-1","scheduledFor":"2026-12-20"}}"#, 400, "invalidShape"),
                ("wrong content type", "/v1/streams/case-000001/events", fixture.headers(.integration).merging([.contentType: "text/plain"]), meeting, 415, "unsupportedMediaType"),
                ("stream with ..", "/v1/streams/case-..x/events", headers, meeting, 400, "invalidShape"),
                ("stream with NUL", "/v1/streams/case-%00x/events", headers, meeting, 400, "invalidShape"),
                ("stream of 10 kB", "/v1/streams/case-\(String(repeating: "x", count: 10_000))/events", headers, meeting, 400, "invalidShape"),
                ("not a stream kind", "/v1/streams/person-1/events", headers, meeting, 400, "invalidShape"),
                ("stream with /", "/v1/streams/case-1/../x/events", headers, meeting, 404, "notFound"),
                ("unknown route", "/v1/nothing", headers, meeting, 404, "notFound"),
                ("a rule", "/v1/streams/case-000001/events", headers,
                 #"{"type":"MinutesWritten","data":{"meetingId":"m-404","writtenOn":"2026-12-01"}}"#, 422, ""),
            ]
            for (what, path, requestHeaders, body, status, code) in cases {
                let response = try await client.execute(uri: path, method: .post, headers: requestHeaders, body: ByteBuffer(string: body))
                #expect(response.status.code == status, "\(what): \(response.text)")
                #expect(response.headers[.contentType] == "application/json", "\(what)")
                let error = response.json?["error"]
                #expect(error?["message"]?.stringValue?.isEmpty == false, "\(what): a clear message")
                if !code.isEmpty { #expect(error?["code"]?.stringValue == code, "\(what): \(response.text)") }
            }
            let query: [(String, Int)] = [
                ("/v1/reports/deviations?asOf=2026-13-01", 400), ("/v1/reports/deviations?rule=decisionOverdu", 400),
                ("/v1/cases?status=open", 400), ("/v1/cases?showPersonId=yes", 400), ("/v1/cases/case-999999", 404),
                ("/v1/reports/workload?unit=Ukjent", 400),
            ]
            for (path, status) in query {
                let response = try await client.execute(uri: path, method: .get, headers: fixture.headers(.coordinatingUnit))
                #expect(response.status.code == status, "\(path): \(response.text)")
            }
            #expect(try await head() == before, "nothing written")
        }
    }

    /// A client that never finishes its body is answered 408 and holds
    /// nothing up; a body of 100 MB is refused at the limit without being read.
    @Test func slowAndHugeBodiesAreCutOff() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService(bodySeconds: 2) { client in
            let port = try #require(client.port)
            let slow = try RawHTTP(port: port)
            slow.send("POST /v1/streams/case-000001/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(fixture.tokens[.integration]!)\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":")
            // Meanwhile others are served.
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: fixture.headers(.caseOffice)).status == .ok)
            let answer = await blocking { slow.read { $0.contains("\r\n\r\n") && $0.contains("}") } }
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")

            let huge = try RawHTTP(port: port)
            huge.send("POST /v1/streams/case-000001/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(fixture.tokens[.integration]!)\r\n"
                      + "Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n")
            let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 1 << 20)
            let refused = await blocking {
                var sent = 0
                while sent < 100, huge.send(chunk) { sent += 1 }
                return huge.read { $0.contains("\r\n\r\n") && $0.contains("}") }
            }
            #expect(refused.hasPrefix("HTTP/1.1 413"), "\(refused.prefix(200))")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }
}

/// The live feed: the log from a position as JSON Lines, and as server-sent
/// events that go on with every commit and resume from Last-Event-ID.
@Suite(.serialized) struct FeedTests {
    @Test func jsonLinesFromAPosition() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let response = try await client.execute(uri: "/v1/events?from=3&limit=2", method: .get, headers: fixture.headers(.integration))
            #expect(response.status == .ok)
            let lines = response.text.split(separator: "\n").map { try? JSONParser.parse(Array($0.utf8)) }
            #expect(lines.map { $0?["position"]?.int64Value } == [3, 4])
            #expect(lines.first??["stream"]?.stringValue == "coordinator-0043")
        }
    }

    @Test func serverSentEventsGoOnWithEveryCommitAndResume() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let port = try #require(client.port)
            let stream = try RawHTTP(port: port)
            stream.send("GET /v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nLast-Event-ID: 14\r\n"
                        + "Authorization: Bearer \(fixture.tokens[.integration]!)\r\n\r\n")
            let start = await blocking { stream.read { $0.contains("id: 16\n") } }
            #expect(start.contains("text/event-stream"))
            #expect(!start.contains("id: 14\n") && start.contains("id: 15\n") && start.contains("id: 16\n"), "resumes after 14: \(start.suffix(300))")
            // A new commit arrives on the open stream.
            let appended = try await client.execute(uri: "/v1/streams/case-000001/events", method: .post,
                                                    headers: fixture.headers(.coordinator).merging([.contentType: "application/json"]),
                                                    body: ByteBuffer(string: #"{"type":"MeetingScheduled","data":{"meetingId":"m-7","scheduledFor":"2026-12-20"}}"#))
            #expect(appended.status == .created)
            let more = await blocking { stream.read { $0.contains("id: 17\n") } }
            #expect(more.contains("id: 17\nevent: event\ndata: {") && more.contains("MeetingScheduled"), "\(more)")
        }
    }
}
