import Application
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Synchronization
import Testing

/// The running service against docs/openapi.json: every operation answers
/// each status code the document gives it, with a body of the document's
/// schema, and answers no code the document does not give it.
@Suite(.serialized) struct OpenAPITests {
    static let document: JSONValue = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = FileManager.default.contents(atPath: root.appendingPathComponent("docs/openapi.json").path)!
        return try! JSONParser.parse(Array(data))
    }()

    /// One request: the operation (path template and method) it exercises.
    struct Call: Sendable {
        var template: String
        var method: String
        var path: String
        var role: Role?
        var body: String?
        var contentType = "application/json"
        var slowBody = false
        /// Sent over a plain socket: a body the service refuses before it has all of it
        /// (the test client would fail writing the rest to a closed connection).
        var raw = false
    }

    static let meeting = #"{"type":"MeetingScheduled","data":{"meetingId":"m-1","scheduledFor":"2026-12-20"}}"#
    static let calls: [Call] = {
        let append = "/v1/streams/{stream}/events"
        let id = "7a0c1e9a-3a43-4d9b-9a53-1d5f0e1b2c3d"
        let withID = #"{"type":"MeetingScheduled","eventId":"\#(id)","data":{"meetingId":"m-2","scheduledFor":"2026-12-21"}}"#
        let line = #"{"stream":"case-000001","type":"MeetingScheduled","data":{"meetingId":"m-3","scheduledFor":"2026-12-22"}}"#
        let refusedLine = #"{"stream":"case-000001","type":"MinutesWritten","data":{"meetingId":"m-404","writtenOn":"2026-12-01"}}"#
        return [
            Call(template: "/healthz", method: "GET", path: "/healthz"),
            Call(template: "/metrics", method: "GET", path: "/metrics"),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator, body: withID),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator, body: withID),  // 200: again
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator, body: "[" + meeting.replacingOccurrences(of: "m-1", with: "m-4") + "]"),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator, body: "{"),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: nil, body: meeting),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .auditor, body: meeting),
            Call(template: append, method: "POST", path: "/v1/streams/case-000002/events", role: .coordinator, body: meeting),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator,
                 body: #"{"type":"MeetingScheduled","expectedVersion":1,"data":{"meetingId":"m-5","scheduledFor":"2026-12-20"}}"#),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator,
                 body: "[" + Array(repeating: meeting, count: 20_000).joined(separator: ",") + "]", raw: true),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator, body: meeting, contentType: "text/plain"),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator,
                 body: #"{"type":"MinutesWritten","data":{"meetingId":"m-404","writtenOn":"2026-12-01"}}"#),
            Call(template: append, method: "POST", path: "/v1/streams/case-000001/events", role: .coordinator, body: meeting, slowBody: true),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: .integration, body: line + "\n", contentType: "application/x-ndjson"),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: .integration, body: "{\n", contentType: "application/x-ndjson"),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: nil, body: line, contentType: "application/x-ndjson"),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: .caseOffice, body: line, contentType: "application/x-ndjson"),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: .integration, body: refusedLine, contentType: "application/x-ndjson"),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: .integration, body: line, contentType: "application/x-ndjson", slowBody: true),
            Call(template: "/v1/import", method: "POST", path: "/v1/import", role: .integration,
                 body: String(repeating: line + "\n", count: 700_000), contentType: "application/x-ndjson", raw: true),
            Call(template: "/v1/streams/{stream}", method: "GET", path: "/v1/streams/case-000001?asOf=2026-06-01", role: .auditor),
            Call(template: "/v1/streams/{stream}", method: "GET", path: "/v1/streams/case-000001?asOf=2026-06-31", role: .auditor),
            Call(template: "/v1/streams/{stream}", method: "GET", path: "/v1/streams/case-000001", role: nil),
            Call(template: "/v1/streams/{stream}", method: "GET", path: "/v1/streams/case-000001", role: .unitManager),
            Call(template: "/v1/streams/{stream}", method: "GET", path: "/v1/streams/case-424242", role: .auditor),
            Call(template: "/v1/cases/{stream}", method: "GET", path: "/v1/cases/case-000001?showPersonId=true", role: .caseOffice),
            Call(template: "/v1/cases/{stream}", method: "GET", path: "/v1/cases/case-..x", role: .caseOffice),
            Call(template: "/v1/cases/{stream}", method: "GET", path: "/v1/cases/case-000001", role: nil),
            Call(template: "/v1/cases/{stream}", method: "GET", path: "/v1/cases/case-000001", role: .integration),
            Call(template: "/v1/cases/{stream}", method: "GET", path: "/v1/cases/case-424242", role: .caseOffice),
            Call(template: "/v1/cases", method: "GET", path: "/v1/cases?status=active", role: .coordinatingUnit),
            Call(template: "/v1/cases", method: "GET", path: "/v1/cases?status=open", role: .coordinatingUnit),
            Call(template: "/v1/cases", method: "GET", path: "/v1/cases", role: nil),
            Call(template: "/v1/cases", method: "GET", path: "/v1/cases", role: .auditor),
            Call(template: "/v1/reports/deviations", method: "GET", path: "/v1/reports/deviations?asOf=2026-12-01", role: .coordinatingUnit),
            Call(template: "/v1/reports/deviations", method: "GET", path: "/v1/reports/deviations?closedFrom=2026-01-01&closedTo=2026-12-01", role: .coordinatingUnit),
            Call(template: "/v1/reports/deviations", method: "GET", path: "/v1/reports/deviations?rule=decisionOverdu", role: .coordinatingUnit),
            Call(template: "/v1/reports/deviations", method: "GET", path: "/v1/reports/deviations", role: nil),
            Call(template: "/v1/reports/deviations", method: "GET", path: "/v1/reports/deviations", role: .auditor),
            Call(template: "/v1/reports/workload", method: "GET", path: "/v1/reports/workload", role: .unitManager),
            Call(template: "/v1/reports/workload", method: "GET", path: "/v1/reports/workload?asOf=someday", role: .coordinatingUnit),
            Call(template: "/v1/reports/workload", method: "GET", path: "/v1/reports/workload", role: nil),
            Call(template: "/v1/reports/workload", method: "GET", path: "/v1/reports/workload", role: .caseOffice),
            Call(template: "/v1/access-log", method: "GET", path: "/v1/access-log?person=\(ServiceFixture.adult)", role: .auditor),
            Call(template: "/v1/access-log", method: "GET", path: "/v1/access-log", role: .auditor),
            Call(template: "/v1/access-log", method: "GET", path: "/v1/access-log?command=erase", role: nil),
            Call(template: "/v1/access-log", method: "GET", path: "/v1/access-log?command=erase", role: .caseOffice),
            Call(template: "/v1/events", method: "GET", path: "/v1/events?from=2&limit=3", role: .integration),
            Call(template: "/v1/events", method: "GET", path: "/v1/events?from=x", role: .integration),
            Call(template: "/v1/events", method: "GET", path: "/v1/events", role: nil),
            Call(template: "/v1/events", method: "GET", path: "/v1/events", role: .caseOffice),
        ]
    }()

    @Test func theServiceAnswersWhatTheDocumentSays() async throws {
        let fixture = try ServiceFixture()
        let exercisedBox = Mutex<Set<String>>([])
        try await fixture.withService(bodySeconds: 1) { client in
            let port = try #require(client.port)
            var seen: Set<String> = []
            for call in Self.calls {
                let (status, contentType, body) = try await Self.send(call, fixture: fixture, client: client, port: port)
                let operation = try #require(Self.document["paths"]?[call.template]?[call.method.lowercased()], "\(call.template) \(call.method) is in the document")
                guard let response = operation["responses"]?[String(status)] else {
                    Issue.record("\(call.method) \(call.path): \(status) is not among the document's answers: \(body.prefix(300))")
                    continue
                }
                seen.insert("\(call.method) \(call.template) \(status)")
                if contentType.hasPrefix("application/json") {
                    let schema = try #require(response["content"]?["application/json"]?["schema"], "\(call.path) \(status): a JSON schema")
                    let value = try JSONParser.parse(Array(body.utf8))
                    let problems = Self.validate(value, against: schema, at: "body")
                    #expect(problems.isEmpty, "\(call.method) \(call.path) \(status): \(problems)")
                } else {
                    #expect(response["content"]?[String(contentType.split(separator: ";")[0])] != nil, "\(call.path) \(status): \(contentType) documented")
                }
            }
            exercisedBox.withLock { $0 = seen }
        }
        let exercised = exercisedBox.withLock { $0 }
        // Every answer the document gives was seen.
        var documented: Set<String> = []
        for path in Self.document["paths"]?.objectValue ?? [] {
            for operation in path.value.objectValue ?? [] {
                for response in operation.value["responses"]?.objectValue ?? [] {
                    documented.insert("\(operation.key.uppercased()) \(path.key) \(response.key)")
                }
            }
        }
        #expect(documented.subtracting(exercised).isEmpty, "documented but not exercised: \(documented.subtracting(exercised).sorted())")
    }

    static func send(_ call: Call, fixture: ServiceFixture, client: any TestClientProtocol, port: Int) async throws -> (Int, String, String) {
        if call.slowBody || call.raw {
            let token = fixture.tokens[call.role!]!
            let body = Array((call.body ?? "").utf8)
            let answer = await blocking { () -> String in
                guard let raw = try? RawHTTP(port: port) else { return "" }
                // A slow body announces ten bytes more than it sends.
                raw.send("\(call.method) \(call.path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: \(call.contentType)\r\n"
                         + "Content-Length: \(body.count + (call.slowBody ? 10 : 0))\r\n\r\n")
                var sent = 0
                while sent < body.count, raw.send(Array(body[sent..<min(sent + (1 << 20), body.count)])) { sent += 1 << 20 }
                return raw.read { $0.contains("\r\n\r\n") && $0.hasSuffix("}\n") }
            }
            let status = answer.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            let head = answer.components(separatedBy: "\r\n\r\n").first ?? ""
            let type = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-type:") }.map { String($0.dropFirst(13)).trimmingCharacters(in: .whitespaces) } ?? ""
            return (status, type, answer.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
        }
        var headers = fixture.headers(call.role)
        if call.body != nil { headers[.contentType] = call.contentType }
        let response = try await client.execute(uri: call.path, method: call.method == "GET" ? .get : .post, headers: headers,
                                                body: call.body.map { ByteBuffer(string: $0) })
        return (Int(response.status.code), response.headers[.contentType] ?? "", response.text)
    }

    /// The problems of `value` against a JSON Schema (the parts the document uses:
    /// $ref, type, const, required, properties, items, oneOf).
    static func validate(_ value: JSONValue, against schema: JSONValue, at path: String) -> [String] {
        if let ref = schema["$ref"]?.stringValue {
            let name = String(ref.split(separator: "/").last!)
            return validate(value, against: document["components"]!["schemas"]![name]!, at: path)
        }
        if let choices = schema["oneOf"]?.arrayValue {
            return choices.contains { validate(value, against: $0, at: path).isEmpty } ? [] : ["\(path): matches none of oneOf"]
        }
        if let constant = schema["const"], constant != value { return ["\(path): \(value.jsonText) is not \(constant.jsonText)"] }
        var problems: [String] = []
        if let type = schema["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue!]
            let actual: String = switch value {
            case .null: "null"
            case .bool: "boolean"
            case .number(let text): text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? "number" : "integer"
            case .string: "string"
            case .array: "array"
            case .object: "object"
            }
            guard allowed.contains(actual) || (actual == "integer" && allowed.contains("number")) else {
                return ["\(path): \(actual), expected \(allowed.joined(separator: " or "))"]
            }
        }
        if case .object(let members) = value {
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where value[name] == nil {
                problems.append("\(path).\(name): missing")
            }
            for member in members {
                if let property = schema["properties"]?[member.key] {
                    problems += validate(member.value, against: property, at: path + "." + member.key)
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (i, item) in items.enumerated() { problems += validate(item, against: itemSchema, at: "\(path)[\(i)]") }
        }
        return problems
    }
}
