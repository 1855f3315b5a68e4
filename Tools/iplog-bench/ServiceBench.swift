import Dispatch
import EventLog
import Foundation
import JSON
import SampleData

/// Row 6: the service over HTTP on loopback, `iplog serve` in a process of its
/// own. Appends with 1, 4, 16 and 64 concurrent clients (each its own case,
/// each on one keep-alive connection) against raw LMDB's one event per durable
/// commit, measured beside them; then `GET /v1/cases/{id}` and
/// `/v1/reports/deviations` under 16 clients on the imported workload.
enum ServiceBench {
    struct Latencies {
        var rate: Double
        var millis: [Double]
    }

    static func rows(iplog: String, scratch: String, readStore: String, streams: [String], rawSingle: () -> Double, perClient: Int) throws -> [Row] {
        var rows: [Row] = []
        // Appends go to a store of their own, so each level starts alike.
        let appendStore = scratch + "/service-appends"
        _ = try EventStore(directory: appendStore, create: true)
        let writer = try token(iplog: iplog, store: appendStore, role: "caseOffice")
        let server = try Server(iplog: iplog, store: appendStore)
        defer { server.stop() }
        var person = 0
        for clients in [1, 4, 16, 64] {
            let raw = rawSingle()
            let count = clients == 1 ? perClient * 2 : max(perClient / max(clients / 4, 1), 25)
            let before = try commits(port: server.port)
            let result = try appendLoad(port: server.port, token: writer, clients: clients, perClient: count, firstPerson: &person, tag: "c\(clients)")
            let after = try commits(port: server.port)
            let perCommit = (after.events - before.events) / max(after.commits - before.commits, 1)
            let target = switch clients { case 1: "≥ 60 %"; case 16: "≥ 300 %"; default: "" }
            rows.append(Row("6. HTTP append, \(clients) client\(clients == 1 ? "" : "s") (\(String(format: "%.1f", perCommit)) events a commit)", "events/s",
                            raw: [raw], iplog: [result.rate], target: target))
            rows.append(Row("   latency p50 / p99", "ms", raw: [], iplog: [percentile(result.millis, 50), percentile(result.millis, 99)],
                            target: clients == 16 ? "p99 ≤ 20 ms" : "", lowerIsBetter: true, pair: true))
        }
        // Reads on the imported workload.
        let readers = try Server(iplog: iplog, store: readStore)
        defer { readers.stop() }
        let reader = try token(iplog: iplog, store: readStore, role: "coordinatingUnit")
        let cases = try readLoad(port: readers.port, token: reader, clients: 16, perClient: 100) { i in "/v1/cases/\(streams[i % streams.count])" }
        rows.append(Row("6. GET /v1/cases/{id}, 16 clients, p50 / p99", "ms", raw: [], iplog: [percentile(cases, 50), percentile(cases, 99)],
                        target: "", lowerIsBetter: true, pair: true))
        let reports = try readLoad(port: readers.port, token: reader, clients: 16, perClient: 3) { _ in "/v1/reports/deviations?asOf=2025-12-31" }
        rows.append(Row("6. GET /v1/reports/deviations, 16 clients, p50 / p99", "ms", raw: [], iplog: [percentile(reports, 50), percentile(reports, 99)],
                        target: "", lowerIsBetter: true, pair: true))
        return rows
    }

    /// The service's commits and the events they carried so far, from `/metrics`.
    static func commits(port: Int) throws -> (commits: Double, events: Double) {
        let text = try KeepAlive(port: port).get("/metrics")
        func value(_ name: String) -> Double {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        }
        return (value("iplog_events_per_commit_count"), value("iplog_events_per_commit_sum"))
    }

    /// A user of `role` on `store`, and their token.
    static func token(iplog: String, store: String, role: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: iplog)
        process.arguments = ["users", "add", "bench-\(role)-\(UUID().uuidString.prefix(8))", "--role", role, "--store", store, "--json"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let token = (try? JSONParser.parse(Array(data)))?["token"]?.stringValue else { throw BenchError("iplog users add failed") }
        return token
    }

    static func appendLoad(port: Int, token: String, clients: Int, perClient: Int, firstPerson: inout Int, tag: String) throws -> Latencies {
        let persons = (0..<clients).map { syntheticPersonID(firstPerson + $0) }
        firstPerson += clients
        let results = try concurrently(clients) { c -> [Double] in
            let connection = try KeepAlive(port: port)
            var millis: [Double] = []
            for n in 0..<perClient {
                let body = n == 0
                    ? #"{"type":"ApplicationReceived","data":{"personId":"\#(persons[c])","receivedOn":"2025-11-02","requested":["individualPlan"],"origin":"application","unit":"Rehabilitering"}}"#
                    : #"{"type":"DeviationReported","data":{"deviationId":"d-\#(n)","reportedOn":"2025-11-03","category":"rutine","description":"målt"}}"#
                let started = DispatchTime.now().uptimeNanoseconds
                let status = try connection.request("POST", "/v1/streams/case-\(tag)-\(c)/events", token: token, body: body)
                millis.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                guard status == 201 else { throw BenchError("append answered \(status)") }
            }
            return millis
        }
        let all = results.value.flatMap { $0 }
        return Latencies(rate: Double(all.count) / results.seconds, millis: all)
    }

    static func readLoad(port: Int, token: String, clients: Int, perClient: Int, path: @escaping @Sendable (Int) -> String) throws -> [Double] {
        try concurrently(clients) { c -> [Double] in
            let connection = try KeepAlive(port: port)
            var millis: [Double] = []
            for n in 0..<perClient {
                let started = DispatchTime.now().uptimeNanoseconds
                let status = try connection.request("GET", path(c * perClient + n), token: token, body: nil)
                millis.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
                guard status == 200 else { throw BenchError("read answered \(status)") }
            }
            return millis
        }.value.flatMap { $0 }
    }

    /// Runs `body` on `count` threads at once; their results and the wall time.
    static func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> (value: [T], seconds: Double) {
        let results = Results<T>(count: count)
        let group = DispatchGroup()
        let started = DispatchTime.now().uptimeNanoseconds
        for i in 0..<count {
            group.enter()
            let thread = Thread {
                results.set(i, Result { try body(i) })
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return (try results.all(), seconds)
    }

    final class Results<T: Sendable>: @unchecked Sendable {
        private var values: [Result<T, any Error>?]
        private let lock = NSLock()
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: Result<T, any Error>) { lock.withLock { values[i] = value } }
        func all() throws -> [T] { try lock.withLock { try values.map { try $0!.get() } } }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `iplog serve` on a free port, its log drained.
final class Server {
    let process = Process()
    let port: Int
    private let errors = Pipe()

    init(iplog: String, store: String) throws {
        process.executableURL = URL(fileURLWithPath: iplog)
        process.arguments = ["serve", "--store", store, "--port", "0"]
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var seen = ""
        // The whole line, up to its newline (a read may end inside the port's digits).
        let line = #"listening on http://127\.0\.0\.1:(\d+)\n"#
        while seen.range(of: line, options: .regularExpression) == nil {
            let data = errors.fileHandleForReading.availableData
            if data.isEmpty { throw BenchError("iplog serve did not start: \(seen)") }
            seen += String(decoding: data, as: UTF8.self)
        }
        guard let range = seen.range(of: line, options: .regularExpression), let port = Int(seen[range].dropLast().split(separator: ":").last!) else {
            throw BenchError("iplog serve: no port in \(seen)")
        }
        self.port = port
        errors.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        errors.fileHandleForReading.readabilityHandler = nil
    }
}

/// One keep-alive HTTP/1.1 connection on loopback, blocking.
final class KeepAlive {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw BenchError("cannot connect to 127.0.0.1:\(port)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// The body of a GET without a token.
    func get(_ path: String) throws -> String {
        try exchange("GET", path, token: nil, body: nil).body
    }

    /// Sends one request and reads its whole answer; the status.
    func request(_ method: String, _ path: String, token: String, body: String?) throws -> Int {
        try exchange(method, path, token: token, body: body).status
    }

    private func exchange(_ method: String, _ path: String, token: String?, body: String?) throws -> (status: Int, body: String) {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "")
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        let bytes = Array((text + "\r\n" + (body ?? "")).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError("send failed") }
            sent += n
        }
        // The head, then Content-Length bytes of body.
        var headEnd: Int?
        while true {
            if let end = find(Array("\r\n\r\n".utf8)) { headEnd = end; break }
            try fill()
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        let status = Int(head.split(separator: " ")[1]) ?? 0
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        while buffer.count < headEnd! + 4 + length { try fill() }
        let answer = String(decoding: buffer[(headEnd! + 4)..<(headEnd! + 4 + length)], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4 + length)
        return (status, answer)
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for i in 0...(buffer.count - needle.count) where buffer[i] == needle[0] && Array(buffer[i..<i + needle.count]) == needle { return i }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var n: Int
        repeat { n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } } while n < 0 && errno == EINTR
        guard n > 0 else { throw BenchError("the connection closed") }
        buffer += chunk[0..<n]
    }
}
