import Foundation
import Testing

struct BenchSmokeTests {
    /// The benchmark builds and completes on a tiny workload, printing every row
    /// (no time is asserted: CI machines are shared and noisy).
    @Test func theBenchmarkRunsATinyWorkloadAndPrintsEveryRow() throws {
        let bench = URL(fileURLWithPath: iplogBinary).deletingLastPathComponent().appendingPathComponent("iplog-bench").path
        let box = try Sandbox()
        let run = try runBinary(bench, ["--cases", "30", "--runs", "1", "--singles", "50", "--histories", "20", "--processes", "2",
                                            "--service-appends", "10", "--dir", box.directory + "/bench"], in: box.directory)
        #expect(run.status == 0, "\(run.stderr)")
        for row in ["1. import", "2. one event per durable commit", "3. replay", "4. one case's history, p50",
                    "4. one case's history, p99", "5. append as a whole process", "store: log",
                    "6. HTTP append, 1 client", "6. HTTP append, 64 clients", "6. GET /v1/cases/{id}", "6. GET /v1/reports/deviations"] {
            #expect(run.stdout.contains(row), "missing row \(row)")
        }
    }

    /// `--only` measures the rows it names and no other; `--no-sync` labels row 2
    /// as unsynced; a row that does not exist is refused before any work.
    @Test func onlyTheNamedRowsAreMeasured() throws {
        let bench = URL(fileURLWithPath: iplogBinary).deletingLastPathComponent().appendingPathComponent("iplog-bench").path
        let box = try Sandbox()
        let run = try runBinary(bench, ["--cases", "20", "--runs", "1", "--singles", "20", "--processes", "2", "--only", "2,5",
                                        "--no-sync", "--dir", box.directory + "/bench"], in: box.directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("2. one event per commit, not synced"))
        #expect(run.stdout.contains("5. append as a whole process"))
        for row in ["1. import", "3. replay", "4. one case's history", "store: log", "6. HTTP append", "7. mirror"] {
            #expect(!run.stdout.contains(row), "unexpected row \(row)")
        }
        let wrong = try runBinary(bench, ["--only", "2,8", "--dir", box.directory + "/bench2"], in: box.directory)
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("--only"))
        #expect(!FileManager.default.fileExists(atPath: box.directory + "/bench2/store-0"))
    }
}
