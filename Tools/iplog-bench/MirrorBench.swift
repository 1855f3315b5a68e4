import Foundation

/// Row 7: `iplog mirror --once` copying the imported store (log and read
/// models) into a local PostgreSQL, against PostgreSQL's own bulk path: `COPY`
/// of the very rows the mirror wrote, from files, into tables of the same
/// definition and indexes, in one transaction. Both as events of the log per second.
///
/// The server is `--postgres URL` (password in PGPASSWORD), or a throwaway one
/// that `Tools/scripts/postgres.sh` starts in the scratch directory.
enum MirrorBench {
    static func rows(iplog: String, store: String, events: Int, runs: Int, scratch: String, postgres: String?) throws -> [Row] {
        guard let psql = ["/usr/bin/psql", "/usr/local/bin/psql"].first(where: FileManager.default.isExecutableFile) else {
            note("skipping the mirror measurement: no psql (apt-get install postgresql)")
            return []
        }
        var url = postgres
        var started: String?
        if url == nil {
            let script = FileManager.default.currentDirectoryPath + "/Tools/scripts/postgres.sh"
            guard FileManager.default.fileExists(atPath: script) else {
                note("skipping the mirror measurement: give --postgres URL, or run from the repository (Tools/scripts/postgres.sh)")
                return []
            }
            let dir = scratch + "/postgres"
            let (status, output) = try spawn("/bin/bash", [script, "start", dir])
            guard status == 0 else { throw BenchFailure("postgres.sh start: \(output)") }
            url = output.split(separator: "\n").last.map(String.init)
            setenv("PGPASSWORD", try String(contentsOfFile: dir + "/password", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), 1)
            started = dir
        }
        guard let url, let connection = Self.psqlArguments(url) else { throw BenchFailure("--postgres: not a postgres:// URL") }
        defer {
            if let started { _ = try? spawn("/bin/bash", [FileManager.default.currentDirectoryPath + "/Tools/scripts/postgres.sh", "stop", started]) }
        }
        func sql(_ text: String) throws {
            let (status, output) = try spawn(psql, connection + ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", text])
            guard status == 0 else { throw BenchFailure("psql: \(output)") }
        }
        // The read models caught up beforehand, untimed: the row measures the copy.
        _ = try spawn(iplog, ["deviations", "--store", store, "--json"])
        let tables = ["events", "cases", "appointments", "deviations", "coordinator_workload", "checkpoint"]
        var mirrorRates: [Double] = [], copyRates: [Double] = []
        for run in 0..<runs {
            let mirrored = "bench_mirror_\(run)", copied = "bench_copy_\(run)"
            try sql("DROP SCHEMA IF EXISTS \(mirrored) CASCADE; DROP SCHEMA IF EXISTS \(copied) CASCADE")
            note("mirror run \(run + 1): iplog mirror --once…")
            var status: Int32 = 0, output = ""
            mirrorRates.append(rate(events) { (status, output) = (try? spawn(iplog, ["mirror", "--store", store, "--postgres", url, "--schema", mirrored, "--once"])) ?? (1, "") })
            guard status == 0 else { throw BenchFailure("iplog mirror: \(output)") }
            // The same rows, to files, untimed; then COPY into tables alike.
            try sql("CREATE SCHEMA \(copied)")
            for table in tables {
                try sql("CREATE TABLE \(copied).\(table) (LIKE \(mirrored).\(table) INCLUDING ALL)")
                try sql("\\copy \(mirrored).\(table) TO '\(scratch)/copy-\(table).txt'")
            }
            note("mirror run \(run + 1): COPY of the same rows…")
            let copy = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "BEGIN"] + tables.flatMap { ["-c", "\\copy \(copied).\($0) FROM '\(scratch)/copy-\($0).txt'"] } + ["-c", "COMMIT"]
            copyRates.append(rate(events) { (status, output) = (try? spawn(psql, connection + copy)) ?? (1, "") })
            guard status == 0 else { throw BenchFailure("psql COPY: \(output)") }
            try sql("DROP SCHEMA \(mirrored) CASCADE; DROP SCHEMA \(copied) CASCADE")
            for table in tables { try? FileManager.default.removeItem(atPath: "\(scratch)/copy-\(table).txt") }
        }
        return [Row("7. mirror catch-up into PostgreSQL (vs COPY of its rows)", "events/s", raw: copyRates, iplog: mirrorRates, target: "≥ 50 %")]
    }

    /// psql's connection arguments for a postgres:// URL.
    static func psqlArguments(_ url: String) -> [String]? {
        guard let u = URLComponents(string: url), ["postgres", "postgresql"].contains(u.scheme ?? ""), let user = u.user else { return nil }
        return ["-h", u.host ?? "127.0.0.1", "-p", "\(u.port ?? 5432)", "-U", user, "-d", String(u.path.dropFirst()).isEmpty ? user : String(u.path.dropFirst())]
    }

    /// Runs a process to its end: its status and what it printed.
    static func spawn(_ path: String, _ arguments: [String]) throws -> (Int32, String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-bench-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let pid = try iplog_bench.spawn(path, arguments, output: output)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
