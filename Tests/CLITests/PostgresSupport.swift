import Foundation
import Synchronization
import Testing

/// A real PostgreSQL server for the mirror's tests: a throwaway cluster that
/// `Tools/scripts/postgres.sh` makes in a temporary directory (initdb as an
/// unprivileged user, 127.0.0.1, a random port, password authentication),
/// stopped when the test process exits.
final class TestPostgres: Sendable {
    let directory: String
    let port: Int
    let password: String
    var url: String { "postgres://iplog@127.0.0.1:\(port)/iplog?sslmode=disable" }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let scriptPath = repository + "/Tools/scripts/postgres.sh"

    /// One server that the tests share (each test in a schema of its own).
    static let shared: Result<TestPostgres, any Error> = Result { try TestPostgres() }

    /// Whether PostgreSQL is installed (`Tools/scripts/test.sh` installs it).
    static var installed: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).contains {
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
        }
    }

    /// Starts a new cluster of its own.
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-pg-\(UUID().uuidString)").path
        try Self.script("start", directory)
        port = Int(try String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        password = try String(contentsOfFile: directory + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        TestPostgres.started.withLock { $0.append(directory) }
        _ = TestPostgres.stopAtExit
    }

    /// Stops the server (its data stays, for ``startAgain()``).
    func stop() throws {
        try Self.script("stop", directory)
    }

    /// Starts a stopped server again on its port.
    func startAgain() throws {
        try Self.script("restart", directory)
    }

    /// The environment a mirror run needs: the tests' own and the password.
    var environment: [String: String] {
        var env = testEnvironment
        env["PGPASSWORD"] = password
        return env
    }

    /// Runs SQL through psql (`variables` as `-v name=value`); the rows, tab-separated.
    func psql(_ sql: String, schema: String? = nil, variables: [String: String] = [:]) throws -> String {
        var arguments = ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "iplog", "-d", "iplog"]
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) { arguments += ["-v", "\(name)=\(value)"] }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-sql-\(UUID().uuidString).sql").path
        try ((schema.map { "SET search_path TO \($0);\n" } ?? "") + sql).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runBinary("/usr/bin/psql", arguments + ["-f", path], in: "/tmp", environment: environment)
        guard run.status == 0 else { throw PostgresFailure("psql: \(run.stderr)") }
        return run.stdout
    }

    /// `pg_dump` of one schema, as SQL text.
    func dump(schema: String) throws -> String {
        let bin = Self.binDirectory
        let run = try runBinary(bin + "/pg_dump", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "iplog", "-n", schema, "iplog"], in: "/tmp", environment: environment)
        guard run.status == 0 else { throw PostgresFailure("pg_dump: \(run.stderr)") }
        return run.stdout
    }

    static var binDirectory: String {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted { Int($0) ?? 0 < Int($1) ?? 0 }
        return "/usr/lib/postgresql/\(versions.last ?? "15")/bin"
    }

    /// Runs `postgres.sh` with posix_spawn and waits for it with waitpid.
    /// (Foundation's Process left the script a zombie here, its exit unseen,
    /// when the first server started inside `shared`'s initialiser.)
    static func script(_ arguments: String...) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-pg-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = (["/bin/bash", scriptPath] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
        guard rc == 0 else { throw PostgresFailure("postgres.sh: posix_spawn: \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw PostgresFailure("postgres.sh \(arguments.joined(separator: " ")): \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        }
    }

    private static let started = Mutex<[String]>([])
    private static let stopAtExit: Void = { atexit { TestPostgres.stopAll() } }()

    private static func stopAll() {
        for directory in started.withLock({ $0 }) {
            try? script("stop", directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

struct PostgresFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
