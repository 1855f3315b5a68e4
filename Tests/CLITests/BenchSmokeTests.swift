import Foundation
import Testing

struct BenchSmokeTests {
    /// The benchmark builds and completes on a tiny workload, printing every row
    /// (no time is asserted: CI machines are shared and noisy).
    @Test func theBenchmarkRunsATinyWorkloadAndPrintsEveryRow() throws {
        let bench = URL(fileURLWithPath: iplogBinary).deletingLastPathComponent().appendingPathComponent("iplog-bench").path
        let box = try Sandbox()
        let run = try runBinary(bench, ["--cases", "30", "--runs", "1", "--singles", "50", "--histories", "20", "--processes", "2",
                                            "--dir", box.directory + "/bench"], in: box.directory)
        #expect(run.status == 0, "\(run.stderr)")
        for row in ["1. import", "2. one event per durable commit", "3. replay", "4. one case's history, p50",
                    "4. one case's history, p99", "5. append as a whole process", "store: log"] {
            #expect(run.stdout.contains(row), "missing row \(row)")
        }
    }
}
