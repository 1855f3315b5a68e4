import AccessLog
import Application
import Deviations
import Domain
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Logging
import ServiceLifecycle
import Synchronization

/// The routes of the contract's HTTP service. Each handler reads the request,
/// hands it to the application layer off the event loop, and writes the
/// answer; what may be done and what is recorded is the application layer's.
struct API: Sendable {
    let reads: Reads
    let appends: Appends
    let metrics: ServiceMetrics
    let logger: Logger
    let bodySeconds: Int64

    func addRoutes(to router: some RouterMethods<ServiceContext>) {
        router.get("/healthz") { _, _ in
            let head = try await offLoop { try reads.log.head() }
            return Self.json(.object(["status": .string("ok"), "position": .integer(head.position)]), personal: false)
        }
        router.get("/metrics") { _, _ in
            let text = try await offLoop { try metrics.text() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.post("/v1/streams/:stream/events") { request, context in try await append(request, context) }
        router.post("/v1/import") { request, context in try await importLines(request, context) }
        router.get("/v1/streams/:stream") { request, context in
            let caller = try context.caller()
            let stream = try Self.stream(context)
            let query = try Query(request)
            let asOf = try query.date("asOf"), show = try query.flag("showPersonId"), reason = query["reason"]
            let history = try await offLoop { try reads.history(stream, asOf: asOf, caller: caller, reason: reason, showPersonId: show) }
            return Self.json(history.json)
        }
        router.get("/v1/cases/:stream") { request, context in
            let caller = try context.caller()
            let stream = try Self.stream(context)
            let query = try Query(request)
            let show = try query.flag("showPersonId"), reason = query["reason"]
            let view = try await offLoop {
                try reads.catchUp()
                return try reads.caseStatus(stream, caller: caller, reason: reason, showPersonId: show)
            }
            return Self.json(view.json)
        }
        router.get("/v1/cases") { request, context in
            let caller = try context.caller()
            let query = try Query(request)
            let status = try query["status"].map { text in
                guard let status = CaseStatus(rawValue: text) else {
                    throw LogError(.invalidShape, "status: one of \(CaseStatus.allCases.map(\.rawValue).joined(separator: ", ")) expected")
                }
                return status
            }
            let filter = Reads.CaseFilter(status: status, coordinator: query["coordinator"], unit: query["unit"], appealLate: try query.flag("appealLate"))
            let show = try query.flag("showPersonId"), reason = query["reason"]
            let rows = try await offLoop {
                try reads.catchUp()
                return try reads.cases(filter, caller: caller, reason: reason, showPersonId: show)
            }
            return Self.json(Reads.json(rows))
        }
        router.get("/v1/reports/deviations") { request, context in
            let caller = try context.caller()
            let query = try Query(request)
            let rule = try query["rule"].map { text in
                guard let rule = DeviationRule(rawValue: text) else {
                    let hint = Envelope.closest(to: text, among: DeviationRule.allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
                    throw LogError(.invalidShape, "rule: not a deviation rule\(hint)")
                }
                return rule
            }
            let question: Reads.DeviationQuestion
            if let from = try query.date("closedFrom") {
                guard query["asOf"] == nil else { throw LogError(.invalidShape, "asOf does not go with closedFrom; the period's end is its date") }
                question = .closed(from: from, to: try query.date("closedTo") ?? .today())
            } else {
                guard query["closedTo"] == nil else { throw LogError(.invalidShape, "closedTo goes with closedFrom") }
                question = .open(asOf: try query.date("asOf") ?? .today())
            }
            let unit = query["unit"], coordinator = query["coordinator"]
            let rows = try await offLoop {
                try reads.catchUp()
                return try reads.deviations(question, rule: rule, unit: unit, coordinator: coordinator, caller: caller)
            }
            return Self.json(Reads.json(rows, question: question))
        }
        router.get("/v1/reports/workload") { request, context in
            let caller = try context.caller()
            let query = try Query(request)
            let date = try query.date("asOf") ?? .today()
            let unit = query["unit"]
            let workload = try await offLoop {
                try reads.catchUp()
                return try reads.workload(asOf: date, unit: unit, caller: caller)
            }
            return Self.json(workload.json)
        }
        router.get("/v1/access-log") { request, context in
            let caller = try context.caller()
            let query = try Query(request)
            let person = query["person"], command = query["command"]
            guard (person == nil) != (command == nil) else { throw LogError(.invalidShape, "give exactly one of person and command") }
            let from = try query.date("from")
            let entries = try await offLoop { try reads.accessLogEntries(person: person, command: command, from: from, caller: caller) }
            return Self.json(Reads.json(entries, forPerson: person != nil))
        }
        router.get("/v1/events") { request, context in try await events(request, context) }
    }

    // MARK: Answers

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, personal: Bool = true) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if personal { headers[.cacheControl] = "no-store" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.jsonText + "\n")))
    }

    static func stream(_ context: ServiceContext) throws -> String {
        let stream = try context.parameters.require("stream")
        guard EventStore.isValidStreamID(stream), StreamKind(stream: stream) != nil, !stream.contains("..") else {
            throw LogError(.invalidShape, "stream: case-<id> or coordinator-<id> of letters, digits, '.', '_' or '-' (at most 200 characters) expected, e.g. case-000123")
        }
        return stream
    }

    /// The body, at most `limit` bytes, within ``ServiceLimits/bodySeconds``: a
    /// client that stops sending is answered 408 instead of holding a task.
    func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        // A body that says it is too large is refused before a byte of it is read.
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError(status: .contentTooLarge, code: "tooLarge", message: "the body is larger than \(limit >> 20) MiB")
        }
        let body = request.body, seconds = bodySeconds
        // Whichever comes first answers: the body, or the clock. A structured
        // race would wait for the body's task, which a silent client never ends.
        let race = BodyRace()
        return try await withCheckedThrowingContinuation { continuation in
            race.begin(continuation)
            let reading = Task {
                do {
                    race.finish(.success(Array(buffer: try await body.collect(upTo: limit))))
                } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                    race.finish(.failure(APIError(status: .contentTooLarge, code: "tooLarge", message: "the body is larger than \(limit >> 20) MiB")))
                } catch {
                    race.finish(.failure(error))
                }
            }
            race.setClock(Task {
                guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }  // cancelled: the body came
                if race.finish(.failure(APIError(status: .requestTimeout, code: "timeout", message: "the body did not arrive within \(seconds) seconds"))) {
                    reading.cancel()
                }
            })
        }
    }

    static func requireJSON(_ request: Request) throws {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard type == "application/json" else {
            throw APIError(status: .unsupportedMediaType, code: "unsupportedMediaType", message: "Content-Type: application/json expected")
        }
    }

    // MARK: Appends

    /// The fields of an event sent to a stream (the stream is the path's).
    static let eventFields = ["type", "data", "eventId", "occurredOn", "expectedVersion", "stream", "actor"]

    func append(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let caller = try context.caller()
        let stream = try Self.stream(context)
        try Self.requireJSON(request)
        let bytes = try await body(request, limit: ServiceLimits.appendBody)
        let body: JSONValue
        do { body = try JSONParser.parse(bytes) } catch { throw LogError(.invalidShape, "the body: malformed JSON: \(error)") }
        let many: Bool
        let items: [JSONValue]
        switch body {
        case .array(let list):
            guard !list.isEmpty, list.count <= 1000 else { throw LogError(.invalidShape, "the body: from 1 to 1000 events expected") }
            (many, items) = (true, list)
        case .object:
            (many, items) = (false, [body])
        default:
            throw LogError(.invalidShape, "the body: an event object or an array of them expected")
        }
        let today = BusinessDate.today()
        var events: [ProposedEvent] = []
        for (i, item) in items.enumerated() {
            do {
                events.append(try Self.event(item, stream: stream, today: today))
            } catch {
                throw APIError(ErrorReport(error), extra: many ? [.init("index", .integer(i))] : [])
            }
        }
        let began = DispatchTime.now().uptimeNanoseconds
        let outcomes: [EventStore.Outcome]
        do {
            outcomes = try await appends.append(events, caller: caller)
        } catch {
            throw await refusal(error, events: events, many: many)
        }
        metrics.appendLatency.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - began))
        let rows = outcomes.map { o in
            JSONValue.object(["position": .integer(o.position), "stream": .string(o.stream), "version": .integer(o.version),
                              "eventId": .string(o.eventID.description)])
        }
        let status: HTTPResponse.Status = outcomes.contains(where: \.written) ? .created : .ok
        return Self.json(many ? .object(["events": .array(rows)]) : rows[0], status: status, personal: false)
    }

    /// One event of a request's body, checked as `iplog append` checks it.
    static func event(_ item: JSONValue, stream: String, today: BusinessDate) throws -> ProposedEvent {
        guard case .object(var fields) = item else { throw LogError(.invalidShape, "an event object expected, found \(item.kindName)") }
        for field in fields where !eventFields.contains(field.key) {
            throw Envelope.unknownField(field.key, at: "", among: eventFields.filter { $0 != "stream" && $0 != "actor" })
        }
        if let named = item["stream"], named != .string(stream) { throw LogError(.invalidShape, "stream: the body names another stream than the path") }
        fields.removeAll { $0.key == "stream" || $0.key == "actor" }  // the actor: the caller, stamped by Appends
        fields.append(.init("stream", .string(stream)))
        return try Catalogue.validate(try Envelope.decode(.object(fields), today: today, dateField: DomainEvent.dateField, catalogueChecksDates: true))
    }

    /// The answer for a refused append: a conflict carries the stream's version.
    func refusal(_ error: any Error, events: [ProposedEvent], many: Bool) async -> APIError {
        var report = ErrorReport(error)
        var extra: [JSONValue.Member] = []
        let index = (error as? AppendFailure)?.index
        if many, let index { extra.append(.init("index", .integer(index))) }
        if report.kind == .conflict, let event = events[safe: index ?? 0] {
            let actual = try? await offLoop { try reads.log.version(of: event.stream) }
            extra.append(.init("expected", .string(event.expectedVersion.description)))
            extra.append(.init("actual", actual.map { .integer($0) } ?? .null))
            report.code = "versionConflict"
        }
        return APIError(report, extra: extra)
    }

    /// `POST /v1/import`: JSON Lines, as `iplog import`: every line is read and
    /// checked first (a malformed line: 400 naming it, nothing written); then
    /// the lines are appended in order, and a refused line ends the import with
    /// the lines before it committed.
    func importLines(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let caller = try context.caller()
        guard caller.role == .integration else { throw AccessDenied.forbidden("only the integration role imports") }
        let bytes = try await body(request, limit: ServiceLimits.importBody)
        let today = BusinessDate.today()
        var events: [ProposedEvent] = [], lines: [Int] = []
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let text = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
            // As `iplog import` reads a line; the recorded actor is the caller, set by Appends.
            guard let item = ImportItem.parse(line: number, Array(text), today: today) else { continue }
            do {
                events.append(try item.event.get())
                lines.append(number)
            } catch {
                throw APIError(ErrorReport(error), extra: [.init("line", .integer(number))])
            }
        }
        var imported = 0, skipped = 0, last: UInt64 = try await offLoop { try reads.log.head().position }
        var start = 0
        while start < events.count {
            let chunk = Array(events[start..<min(start + 500, events.count)])
            do {
                let outcomes = try await appends.append(chunk, caller: caller)
                for o in outcomes { if o.written { imported += 1; last = max(last, o.position) } else { skipped += 1 } }
                start += chunk.count
            } catch let failure as AppendFailure {
                // The lines before the refused one are committed, as `iplog import` does.
                if failure.index > 0, let outcomes = try? await appends.append(Array(chunk[..<failure.index]), caller: caller) {
                    for o in outcomes { if o.written { imported += 1; last = max(last, o.position) } else { skipped += 1 } }
                }
                var report = ErrorReport(failure)
                if report.kind == .conflict { report.code = "versionConflict" }
                throw APIError(report, extra: [.init("line", .integer(lines[start + failure.index])), .init("imported", .integer(imported))])
            }
        }
        return Self.json(.object(["imported": .integer(imported), "skipped": .integer(skipped), "lastPosition": .integer(last)]), personal: false)
    }

    // MARK: The feed

    /// `GET /v1/events`: the log from a position as JSON Lines, or with
    /// `Accept: text/event-stream` as server-sent events that go on with every
    /// commit (`id:` is the position; `Last-Event-ID` resumes after it).
    func events(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let caller = try context.caller()
        try AccessRules.checkRead(.events, by: caller)
        let query = try Query(request)
        let from = try query.number("from") ?? 1
        let limit = min(try query.number("limit") ?? 1000, 10_000)
        guard from >= 1, limit >= 1 else { throw LogError(.invalidShape, "from and limit: numbers from 1 expected") }
        let live = request.headers[.accept]?.contains("text/event-stream") ?? false
        if !live {
            let page: [(position: UInt64, json: JSONValue)] = try await offLoop { try self.page(from: from, limit: Int(limit), caller: caller) }
            let text = page.map { $0.json.jsonText + "\n" }.joined()
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        var next = from
        if let resume = request.headers[.lastEventID] {
            guard let after = UInt64(resume.trimmingCharacters(in: .whitespaces)) else {
                throw LogError(.invalidShape, "Last-Event-ID: a position expected")
            }
            next = after + 1
        }
        let start = next
        let body = ResponseBody { [self] writer in
            var next = start
            var quiet = 0
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let position = next
                let page: [(position: UInt64, json: JSONValue)] = try await offLoop { try self.page(from: position, limit: 500, caller: caller) }
                if page.isEmpty {
                    quiet += 1
                    if quiet % 150 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }  // every 15 s
                    try await Task.sleep(for: .milliseconds(100))
                    continue
                }
                quiet = 0
                var text = ""
                for event in page { text += "id: \(event.position)\nevent: event\ndata: \(event.json.jsonText)\n\n" }
                try await writer.write(ByteBuffer(string: text))
                next = page.last!.position + 1
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    /// Events from a position, as `iplog export` writes them; the read is in the
    /// access log (with the persons whose applications it holds) before it is returned.
    func page(from: UInt64, limit: Int, caller: Caller) throws -> [(position: UInt64, json: JSONValue)] {
        var rows: [(position: UInt64, json: JSONValue)] = []
        try reads.export(stream: nil, from: from, limit: limit, caller: caller, reason: nil, command: "events") { event, line in
            rows.append((event.position, line))
        }
        return rows
    }
}

/// The first of two answers resumes the waiting request; the second is
/// dropped. The body's arrival stops the clock, so no timer outlives its request.
final class BodyRace: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[UInt8], any Error>?
        var clock: Task<Void, Never>?
        var finished = false
    }
    private let state = Mutex(State())

    func begin(_ waiting: CheckedContinuation<[UInt8], any Error>) {
        state.withLock { $0.continuation = waiting }
    }

    func setClock(_ clock: Task<Void, Never>) {
        let finished = state.withLock { state -> Bool in
            if !state.finished { state.clock = clock }
            return state.finished
        }
        if finished { clock.cancel() }
    }

    /// Resumes the request with `result` if nothing has yet; true if this did.
    @discardableResult
    func finish(_ result: Result<[UInt8], any Error>) -> Bool {
        let (waiting, clock) = state.withLock { state -> (CheckedContinuation<[UInt8], any Error>?, Task<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer { state.continuation = nil; state.clock = nil }
            return (state.continuation, state.clock)
        }
        guard let waiting else { return false }
        clock?.cancel()
        waiting.resume(with: result)
        return true
    }
}

/// A request's query, with its parameters read and checked.
struct Query {
    let values: [String: String]

    init(_ request: Request) throws {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard values[name] == nil else { throw LogError(.invalidShape, "\(name): given twice") }
            values[name] = String(value)
        }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }

    func date(_ name: String) throws -> BusinessDate? {
        try values[name].map { try Envelope.date($0, field: name) }
    }

    func flag(_ name: String) throws -> Bool {
        switch values[name] {
        case nil, "false": return false
        case "true": return true
        default: throw LogError(.invalidShape, "\(name): true or false expected")
        }
    }

    func number(_ name: String) throws -> UInt64? {
        try values[name].map { text in
            guard let n = UInt64(text) else { throw LogError(.invalidShape, "\(name): a whole number expected") }
            return n
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

extension HTTPField.Name {
    static let lastEventID = Self("Last-Event-ID")!
}
