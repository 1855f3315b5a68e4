import Foundation
import Testing

/// The built `iplog` binary, beside the test bundle (or $IPLOG_BINARY).
let iplogBinary: String = {
    if let path = ProcessInfo.processInfo.environment["IPLOG_BINARY"] { return path }
    var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iplog").path]
    if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() {
        candidates.append(bundle.appendingPathComponent("iplog").path)
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(root.appendingPathComponent(".build/debug/iplog").path)
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
}()

/// What a run of the binary did.
struct Run {
    /// The exit code, or the signal's number when a signal ended the process.
    var status: Int32
    var stdout: String
    var stderr: String
    /// A signal ended the process (SIGSEGV, SIGBUS, SIGKILL, …).
    var signaled = false
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
}

/// A temporary directory with a store in it, removed at the end of the test.
final class Sandbox {
    let directory: String
    var store: String { directory + "/store" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ lines: [String]) throws -> String {
        let path = directory + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `iplog` with `arguments` (and `--store` of this sandbox unless given).
    @discardableResult
    func iplog(_ arguments: [String], stdin: String? = nil, store: String? = nil) throws -> Run {
        try runIplog(arguments + ["--store", store ?? self.store], stdin: stdin, in: directory)
    }

    /// Starts `iplog` without waiting.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: iplogBinary)
        process.arguments = arguments + ["--store", store]
        process.environment = testEnvironment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

let testEnvironment: [String: String] = {
    var env = ProcessInfo.processInfo.environment
    env["IPLOG_STORE"] = nil
    env["IPLOG_ACTOR"] = nil
    env["IPLOG_TODAY"] = "2026-11-23"
    return env
}()

func runIplog(_ arguments: [String], stdin: String? = nil, in directory: String) throws -> Run {
    try runBinary(iplogBinary, arguments, stdin: stdin, in: directory)
}

/// Runs `executable` to its end in `directory`, with the tests' environment unless given; output captured through files.
func runBinary(_ executable: String, _ arguments: [String], stdin: String? = nil, in directory: String,
               environment: [String: String] = testEnvironment) throws -> Run {
    let out = directory + "/.out-\(UUID().uuidString)", err = directory + "/.err-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: err)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.currentDirectoryURL = URL(fileURLWithPath: directory)  // a default store lands there, not in the package
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle(forWritingAtPath: err)
    if let stdin {
        let pipe = Pipe()
        process.standardInput = pipe
        try process.run()
        pipe.fileHandleForWriting.write(Data(stdin.utf8))
        try pipe.fileHandleForWriting.close()
    } else {
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }
    process.waitUntilExit()
    return Run(status: process.terminationStatus,
               stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
               stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "",
               signaled: process.terminationReason == .uncaughtSignal)
}

/// A valid fødselsnummer for a birth date, with `individual` as digits 7–9.
func personID(day: Int, month: Int, year: Int, individual: Int) -> String? {
    let digits = String(format: "%02d%02d%02d%03d", day, month, year % 100, individual).map { Int(String($0))! }
    let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2], w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    let k1 = (11 - zip(w1, digits).map(*).reduce(0, +) % 11) % 11
    if k1 == 10 { return nil }
    let k2 = (11 - zip(w2, digits + [k1]).map(*).reduce(0, +) % 11) % 11
    if k2 == 10 { return nil }
    return (digits + [k1, k2]).map(String.init).joined()
}

/// `count` coordinator registrations with fixed event ids: lines that every
/// version of the rules accepts, for tests of the log's mechanics.
func registrationLines(_ count: Int, prefix: String = "c") -> [String] {
    (1...count).map { n in
        let id = String(format: "%@%06d", prefix, n)
        // Distinct ids for distinct prefixes ("c" keeps the plain numbering).
        let offset = prefix == "c" ? 0 : Int(prefix.unicodeScalars.first!.value) * 10_000_000
        let uuid = String(format: "00000000-0000-4000-8000-%012d", n + offset)
        return #"{"stream":"coordinator-\#(id)","type":"CoordinatorRegistered","eventId":"\#(uuid)","occurredOn":"2025-01-02","actor":"coordinating-unit","data":{"coordinatorId":"\#(id)","name":"Kari Nordmann","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2025-01-02"}}"#
    }
}

func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }
