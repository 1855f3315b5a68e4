import Application
import Foundation
import JSON
import Synchronization
import Testing

/// The built `iplog` binary, beside the test bundle.
let iplogBinary: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iplog").path,
                      root.appendingPathComponent(".build/debug/iplog").path]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

/// `iplog serve` as its own process, on a free port.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    /// The service's log goes to a file: a pipe that the test process fails to
    /// drain (its threads all busy on a loaded machine) would stop the service
    /// at its next log line.
    let log: String

    init(store: String) throws {
        log = store + "-serve-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: iplogBinary)
        process.arguments = ["serve", "--store", store, "--port", "0"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        // "iplog serve: listening on http://127.0.0.1:PORT"
        let deadline = Date().addingTimeInterval(60)
        var seen = ""
        // The whole line, up to its newline: a file read while the line is being
        // written would give "…:385" of port 38547.
        let line = #"listening on http://127\.0\.0\.1:(\d+)\n"#
        while seen.range(of: line, options: .regularExpression) == nil, Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            seen = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        guard let range = seen.range(of: line, options: .regularExpression),
              let port = Int(seen[range].dropLast().split(separator: ":").last!) else {
            process.terminate()
            throw POSIXError(.EIO)
        }
        self.port = port
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    func waitForExit() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite(.serialized) struct ProcessTests {
    final class Answers: Sendable {
        /// Event id → (body, stream, position) of every append answered 201.
        let created = Mutex<[String: (body: String, stream: String, position: Int64)]>([:])
        let stop = Atomic<Bool>(false)
        let lastStatus = Atomic<Int>(0)
    }

    /// Appends from `workers` clients, each to its own case, until told to stop
    /// or the service goes away; records what was answered 201.
    static func load(port: Int, token: String, workers: Int, answers: Answers, tag: String) async {
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<workers {
                group.addTask {
                    await onThread {
                        let stream = "case-\(tag)\(w)"
                        var n = 0
                        while !answers.stop.load(ordering: .relaxed) {
                            let id = UUID().uuidString.lowercased()
                            let body = n == 0
                                ? #"{"type":"ApplicationReceived","eventId":"\#(id)","data":{"personId":"\#(person(w + (tag == "k" ? 100 : 200)))","receivedOn":"2026-11-02","requested":["individualPlan"],"origin":"application","unit":"Hjemmetjenesten"}}"#
                                : #"{"type":"DeviationReported","eventId":"\#(id)","data":{"deviationId":"d-\#(n)","reportedOn":"2026-11-03","category":"rutine","description":"x"}}"#
                            // A refused connection: the service is gone. No answer in time (a loaded machine): ask again.
                            guard let answer = try? RawHTTP.request(port: port, "POST", "/v1/streams/\(stream)/events", token: token, body: body) else { return }
                            answers.lastStatus.store(answer.status, ordering: .relaxed)
                            if answer.status == 0 { continue }
                            if answer.status == 201, let position = (try? JSONParser.parse(Array(answer.text.utf8)))?["position"]?.int64Value {
                                answers.created.withLock { $0[id] = (body, stream, position) }
                                n += 1
                            }
                        }
                    }
                }
            }
        }
    }

    static func waitFor(_ answers: Answers, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while answers.created.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGKILL while 16 clients append: after a restart every append that was
    /// answered 201 is in the log exactly once, verify is clean, and a retry
    /// with the same event id is answered 200 with the same position.
    @Test func killedWhileAppendingLosesNothingAcknowledged() async throws {
        let fixture = try ServiceFixture()
        let token = fixture.tokens[.caseOffice]!
        let server = try ServerProcess(store: fixture.store)
        let answers = Answers()
        async let load: Void = Self.load(port: server.port, token: token, workers: 16, answers: answers, tag: "k")
        // Killed in the middle of the load: once some hundreds are acknowledged (however slow the machine).
        try await Self.waitFor(answers, count: 300)
        server.signal(SIGKILL)
        _ = server.waitForExit()
        answers.stop.store(true, ordering: .relaxed)
        await load
        let created = answers.created.withLock { $0 }
        #expect(created.count > 16, "the clients appended before the kill (last answer \(answers.lastStatus.load(ordering: .relaxed)); the service's log ends: \(((try? String(contentsOfFile: server.log, encoding: .utf8)) ?? "").suffix(1500)))")

        let again = try ServerProcess(store: fixture.store)
        // A retry of a sample (every one is checked in the export below).
        for (id, answer) in created.shuffled().prefix(200) {
            let retry = await blocking { try? RawHTTP.request(port: again.port, "POST", "/v1/streams/\(answer.stream)/events", token: token, body: answer.body) }
            #expect(retry?.status == 200, "\(id): \(retry?.text ?? "no answer")")
            #expect((try? JSONParser.parse(Array((retry?.text ?? "").utf8)))?["position"]?.int64Value == answer.position)
        }
        again.signal(SIGTERM)
        #expect(again.waitForExit() == 0)
        let verify = try runIplog(["verify", "--json", "--store", fixture.store])
        #expect(verify.status == 0, "\(verify.output)")
        let export = try runIplog(["export", "--store", fixture.store, "--actor", "test"])
        let lines = export.output.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
        let ids = lines.compactMap { $0["eventId"]?.stringValue }
        #expect(Set(ids).count == ids.count, "each event once")
        let positions = Dictionary(lines.compactMap { line in line["eventId"]?.stringValue.map { ($0, line["position"]?.int64Value) } },
                                   uniquingKeysWith: { first, _ in first })
        let lost = created.filter { positions[$0.key] != $0.value.position }
        #expect(lost.isEmpty, "every append answered 201 is in the log at its position: \(lost.count) of \(created.count) are not")
    }

    /// SIGTERM while clients append: the service stops taking requests,
    /// finishes those in flight, and exits 0; every 201 is in the log.
    @Test func sigtermFinishesWhatIsInFlightAndExitsZero() async throws {
        let fixture = try ServiceFixture()
        let token = fixture.tokens[.caseOffice]!
        let server = try ServerProcess(store: fixture.store)
        let answers = Answers()
        async let load: Void = Self.load(port: server.port, token: token, workers: 8, answers: answers, tag: "t")
        try await Self.waitFor(answers, count: 100)
        server.signal(SIGTERM)
        let status = await blocking { server.waitForExit() }
        answers.stop.store(true, ordering: .relaxed)
        await load
        #expect(status == 0)
        let export = try runIplog(["export", "--store", fixture.store, "--actor", "test"])
        let ids = Set(export.output.split(separator: "\n").compactMap { (try? JSONParser.parse(Array($0.utf8)))?["eventId"]?.stringValue })
        let created = answers.created.withLock { $0 }
        #expect(!created.isEmpty && Set(created.keys).isSubset(of: ids))
    }
}

extension ProcessTests {
    /// A port that is taken is a clear error and exit 1, not a crash.
    @Test func aPortInUseIsAClearError() async throws {
        let fixture = try ServiceFixture()
        let server = try ServerProcess(store: fixture.store)
        defer {
            server.signal(SIGTERM)
            _ = server.waitForExit()
        }
        let second = Process()
        second.executableURL = URL(fileURLWithPath: iplogBinary)
        second.arguments = ["serve", "--store", fixture.store, "--port", String(server.port)]
        let errors = Pipe()
        second.standardError = errors
        try second.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus == 1)
        #expect(text.contains("[ioError] cannot listen on 127.0.0.1:\(server.port): the address is in use"), "\(text)")
    }
}

/// Runs blocking work on a thread of its own (not GCD's pool, which a loaded
/// test process may have busy), and waits for it.
func onThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            body()
            continuation.resume()
        }
        thread.start()
    }
}

/// Runs the `iplog` binary; its exit status and standard output.
func runIplog(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: iplogBinary)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
