import Foundation
import Testing

struct BenchSmokeTests {
    /// The benchmark builds and completes on a tiny workload, printing every row
    /// (no time is asserted: CI machines are shared and noisy).
    @Test func theBenchmarkRunsATinyWorkloadAndPrintsEveryRow() throws {
        let bench = URL(fileURLWithPath: iplogBinary).deletingLastPathComponent().appendingPathComponent("iplog-bench").path
        let box = try Sandbox()
        let run = try runIplogBench(bench, ["--cases", "30", "--runs", "1", "--singles", "50", "--histories", "20", "--processes", "2",
                                            "--dir", box.directory + "/bench"], in: box.directory)
        #expect(run.status == 0, "\(run.stderr)")
        for row in ["1. import", "2. one event per durable commit", "3. replay", "4. one case's history, p50",
                    "4. one case's history, p99", "5. append as a whole process", "store: log"] {
            #expect(run.stdout.contains(row), "missing row \(row)")
        }
    }
}

func runIplogBench(_ path: String, _ arguments: [String], in directory: String) throws -> Run {
    let out = directory + "/bench.out", err = directory + "/bench.err"
    FileManager.default.createFile(atPath: out, contents: nil)
    FileManager.default.createFile(atPath: err, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    p.environment = testEnvironment
    p.standardOutput = FileHandle(forWritingAtPath: out)
    p.standardError = FileHandle(forWritingAtPath: err)
    try p.run()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
               stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}
