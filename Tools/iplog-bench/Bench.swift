import ArgumentParser
import CaseStatus
import CoordinatorWorkload
import Deviations
import Domain
import EventLog
import Foundation
import JSON
import ProjectionKit
import ReadModels
import SampleData

/// `iplog-bench`: the same work through raw LMDB and through iplog, in one run,
/// on one generated workload, with the ratio of the two. Medians and min–max
/// over `--runs`; these machines are shared and noisy, so single times mean little.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iplog-bench",
        abstract: "Benchmark iplog against raw LMDB on the same generated workload, in one run."
    )

    @Option(help: "Cases in the generated workload (25,000 ≈ 1 million events).")
    var cases = 25_000

    @Option(help: "Repetitions of each measurement.")
    var runs = 3

    @Option(help: "Events per transaction when importing.")
    var batch = 1000

    @Option(help: "Events appended one durable commit at a time.")
    var singles = 2000

    @Option(help: "Cases whose history is read for the latency measurement.")
    var histories = 1000

    @Option(help: "Appends a client sends over HTTP in row 6 (one client sends twice as many).")
    var serviceAppends = 400

    @Option(help: "Process starts for `iplog append` against the C program.")
    var processes = 30

    @Option(help: "Scratch directory (default: a new one under $TMPDIR, removed at the end).")
    var dir: String?

    @Flag(help: "Row 2 without syncing (raw and iplog alike): what a commit costs besides waiting for the disk.")
    var noSync = false

    @Option(help: ArgumentHelp("Row 7's PostgreSQL (password in PGPASSWORD); default: a throwaway server from Tools/scripts/postgres.sh.", valueName: "url"))
    var postgres: String?

    @Option(help: "Measure only these rows (1–7, comma-separated; 6 is the service over HTTP, 7 the PostgreSQL mirror); the size row needs row 1.")
    var only: String?

    @Option(help: "Also measure the peak memory of a rebuild over this many events (e.g. 10000000); 0 skips it.")
    var memoryEvents = 0

    func validate() throws {
        _ = try selectedRows()
        if memoryEvents > 0, iplogBinary() == nil {
            throw ValidationError("--memory-events runs `iplog projections rebuild` and needs the iplog binary beside iplog-bench")
        }
    }

    mutating func run() throws {
        let scratch = dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("iplog-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: scratch) } }
        let today = BusinessDate(iso: "2026-01-01")!

        note("generating \(cases) cases…")
        let workload = Workload(cases: cases, today: today)
        note("\(workload.lines.count) events, \(workload.jsonBytes / 1_000_000) MB of JSON Lines")
        var results: [Row] = []

        let rows = try selectedRows()
        func wants(_ row: Int) -> Bool { rows.contains(row) }

        // 1. Import in batches. Later rows read the store of the first run; when
        // row 1 is not measured, that store is imported once, untimed.
        var rawImport: [Double] = [], iplogImport: [Double] = []
        for run in 0..<(wants(1) ? runs : 0) {
            let rawPath = "\(scratch)/raw-import-\(run)"
            let raw = RawLMDB(path: rawPath)
            rawImport.append(rate(workload.lines.count) { raw.load(workload.lines, keys: workload.indexKeys, range: 0..<workload.lines.count, batch: batch) })
            raw.close()
            try? FileManager.default.removeItem(atPath: rawPath)
            let storePath = "\(scratch)/store-\(run)"
            iplogImport.append(try rate(workload.lines.count) {
                let store = try EventStore(directory: storePath)
                var policy = DomainPolicy(today: today)
                let summary = try store.importEvents(workload.items(today: today), batchSize: batch, policy: &policy)
                precondition(summary.imported == workload.lines.count, "the workload must import without refusal")
            })
            if run > 0 { try? FileManager.default.removeItem(atPath: storePath) }
            note("import run \(run + 1): raw \(Int(rawImport.last!)) events/s, iplog \(Int(iplogImport.last!)) events/s")
        }
        if wants(1) {
            results.append(Row("1. import, \(batch) a transaction, durable", "events/s", raw: rawImport, iplog: iplogImport, target: "≥ 50 % and ≥ 100k/s"))
        } else if !rows.isDisjoint(with: [3, 4, 5, 6, 7]) {
            var policy = DomainPolicy(today: today)
            _ = try EventStore(directory: "\(scratch)/store-0").importEvents(workload.items(today: today), batchSize: batch, policy: &policy)
        }
        let store = try EventStore(directory: "\(scratch)/store-0")

        // 2. One event per durable commit. The disk is shared and its speed
        // drifts, so raw and iplog take turns, 50 commits each, and each side's
        // rate is its events over the sum of its turns.
        let n = min(singles, workload.lines.count)
        var rawSingle: [Double] = [], iplogSingle: [Double] = []
        for run in 0..<(wants(2) ? runs : 0) {
            let raw = RawLMDB(path: "\(scratch)/raw-single-\(run)", durable: !noSync)
            let single = try EventStore(directory: "\(scratch)/single-\(run)", durable: !noSync)
            let events = try workload.items(today: today).prefix(n).map { try $0.event.get() }
            var policy = DomainPolicy(today: today)
            var rawSeconds = 0.0, iplogSeconds = 0.0
            for turn in stride(from: 0, to: n, by: 50) {
                let range = turn..<min(turn + 50, n)
                rawSeconds += milliseconds { raw.load(workload.lines, keys: workload.indexKeys, range: range, batch: 1) } / 1000
                iplogSeconds += try milliseconds {
                    for event in events[range] { try single.append(event, policy: &policy) }
                } / 1000
            }
            raw.close()
            rawSingle.append(Double(n) / rawSeconds)
            iplogSingle.append(Double(n) / iplogSeconds)
        }
        if wants(2) { results.append(Row(noSync ? "2. one event per commit, not synced (first \(n))" : "2. one event per durable commit (first \(n))", "events/s", raw: rawSingle, iplog: iplogSingle, target: "≥ 80 %")) }

        // 3. Full replay: all three projections rebuilt, against a raw cursor scan that reads every byte.
        let raw = RawLMDB(path: "\(scratch)/raw-import-replay")
        if !rows.isDisjoint(with: [3, 4]) {
            raw.load(workload.lines, keys: workload.indexKeys, range: 0..<workload.lines.count, batch: 10_000)
        }
        var rawScan: [Double] = [], iplogReplay: [Double] = []
        for run in 0..<(wants(3) ? runs : 0) {
            rawScan.append(rate(workload.lines.count) { precondition(raw.scan() > 0) })
            let views = try ViewStore(directory: "\(scratch)/store-0", projections: [CaseStatusProjection.name, DeviationsProjection.name, CoordinatorWorkloadProjection.name])
            let runner = ProjectionRunner(log: store, views: views)
            iplogReplay.append(try rate(workload.lines.count) {
                _ = try ReadModels.rebuild(runner)
            })
            note("replay run \(run + 1): raw \(Int(rawScan.last!)) events/s, iplog \(Int(iplogReplay.last!)) events/s")
        }
        if wants(3) { results.append(Row("3. replay: all three projections rebuilt", "events/s", raw: rawScan, iplog: iplogReplay, target: "≥ 20 % (aim 30 %)")) }

        // 4. One case's history, read and folded.
        var generator = SeededRandom(seed: "histories")
        let streams = (0..<(wants(4) ? histories : 0)).map { _ in "case-" + String(format: "%06d", generator.int(1, cases)) }
        var rawLatency: [Double] = [], iplogLatency: [Double] = []
        for stream in streams {
            let prefix = Array(stream.utf8) + [0]
            rawLatency.append(microseconds { precondition(raw.readStream(prefix: prefix) > 0) })
            iplogLatency.append(try microseconds {
                var state = CaseState()
                try store.scan(stream: stream) { e in
                    state.apply(try decodeEvent(e, keys: nil), occurredOn: e.occurredOn, personKey: e.sealedSlot)
                    return true
                }
                precondition(state.status != nil)
            })
        }
        raw.close()
        if wants(4) {
            results.append(Row("4. one case's history, p50", "µs", raw: [percentile(rawLatency, 50)], iplog: [percentile(iplogLatency, 50)], target: "within 2×", lowerIsBetter: true))
            results.append(Row("4. one case's history, p99", "µs", raw: [percentile(rawLatency, 99)], iplog: [percentile(iplogLatency, 99)], target: "", lowerIsBetter: true))
        }

        // 5. `iplog append` as a whole process against a minimal C program.
        if !wants(5) {
        } else if let cProgram = try? CProgram.build(in: scratch), let iplog = iplogBinary() {
            var cTimes: [Double] = [], iplogTimes: [Double] = []
            let cStore = "\(scratch)/c-append"
            try FileManager.default.createDirectory(atPath: cStore, withIntermediateDirectories: true)
            for i in 0..<processes {
                cTimes.append(try milliseconds { try runProcess(cProgram, [cStore, String(i)]) })
                let data = #"{"coordinatorId":"b\#(i)","name":"Kari Nordmann","unit":"Rehabilitering","profession":"sykepleier","registeredOn":"2025-01-02"}"#
                iplogTimes.append(try milliseconds {
                    try runProcess(iplog, ["append", "--store", "\(scratch)/store-0", "--stream", "coordinator-b\(i)", "--type", "CoordinatorRegistered", "--data", data])
                })
            }
            results.append(Row("5. append as a whole process", "starts/s", raw: cTimes.map { 1000 / $0 }, iplog: iplogTimes.map { 1000 / $0 }, target: "≥ 50 %"))
        } else {
            note("skipping the process measurement: no C compiler or no iplog binary beside iplog-bench")
        }

        // 6. The service over HTTP.
        if wants(6) {
            if let iplog = iplogBinary() {
                let streams = try store.streams(prefix: "case-").prefix(5000).map(\.stream)
                var round = 0
                let rawSingle = { () -> Double in
                    // Raw's one event per durable commit, measured beside each level.
                    round += 1
                    let path = "\(scratch)/raw-single-service-\(round)"
                    let raw = RawLMDB(path: path, durable: !noSync)
                    let n = min(500, workload.lines.count)
                    let seconds = milliseconds { raw.load(workload.lines, keys: workload.indexKeys, range: 0..<n, batch: 1) } / 1000
                    raw.close()
                    try? FileManager.default.removeItem(atPath: path)
                    return Double(n) / seconds
                }
                results += try ServiceBench.rows(iplog: iplog, scratch: scratch, readStore: "\(scratch)/store-0", streams: streams,
                                                 rawSingle: rawSingle, perClient: serviceAppends)
            } else {
                note("skipping the service measurement: no iplog binary beside iplog-bench")
            }
        }

        // 7. The PostgreSQL mirror.
        if wants(7) {
            if let iplog = iplogBinary() {
                results += try MirrorBench.rows(iplog: iplog, store: "\(scratch)/store-0", events: Int(try store.head().position), runs: runs,
                                                scratch: scratch, postgres: postgres)
            } else {
                note("skipping the mirror measurement: no iplog binary beside iplog-bench")
            }
        }

        print("")
        print("iplog-bench: \(workload.lines.count) events (\(cases) cases), \(runs) runs; median (min–max); ratio = iplog as a share of raw LMDB's speed")
        print(Row.table(results))

        // Size on disk against the JSON Lines export.
        if wants(1) {
            let stats = try store.statistics()
            var exportBytes = 0
            try store.forEach { event in
                exportBytes += Envelope.encode(event, payload: try event.payload()).jsonText.utf8.count + 1
                return true
            }
            let viewBytes = directorySize("\(scratch)/store-0/projections")
            print("")
            print("store: log \(mb(stats.fileBytes)) for an export of \(mb(exportBytes)) JSON Lines: \(String(format: "%.2f", Double(stats.fileBytes) / Double(exportBytes)))× (target ≤ 1.2×); read models \(mb(viewBytes))")
        }

        if memoryEvents > 0, let iplog = iplogBinary() {  // validate() made sure it is there
            try measureRebuildMemory(events: memoryEvents, scratch: scratch, iplog: iplog, today: today)
        }
    }

    /// The rows `--only` names (all five without it).
    func selectedRows() throws -> Set<Int> {
        guard let only else { return [1, 2, 3, 4, 5, 6, 7] }
        let rows = only.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !rows.isEmpty, rows.allSatisfy({ $0.map { (1...7).contains($0) } ?? false }) else {
            throw ValidationError("--only: row numbers 1 to 7, comma-separated, expected (e.g. --only 2,5)")
        }
        return Set(rows.compactMap { $0 })
    }

    /// Peak resident memory of `iplog projections rebuild` over a store of `events` events.
    func measureRebuildMemory(events: Int, scratch: String, iplog: String, today: BusinessDate) throws {
        let bigCases = max(1, events / 41)
        note("memory: generating and importing about \(events) events (\(bigCases) cases)…")
        let path = "\(scratch)/big"
        let store = try EventStore(directory: path, durable: false)
        var policy = DomainPolicy(today: today)
        var batch: [ProposedEvent] = []
        var count = 0
        SampleData.generate(.init(cases: bigCases, seed: 2)) { envelope in
            batch.append(try! Catalogue.validate(try! Envelope.decode(envelope, today: today, dateField: DomainEvent.dateField)))
            if batch.count == 50_000 {
                try! store.append(batch, policy: &policy)
                count += batch.count
                batch = []
            }
        }
        try store.append(batch, policy: &policy)
        count += batch.count
        let start = Date()
        let peak = try runProcessSampling(iplog, ["projections", "rebuild", "--store", path])
        print("memory: rebuild of all three projections over \(count) events (\(bigCases) cases) in \(String(format: "%.0f", Date().timeIntervalSince(start))) s: "
              + "peak anonymous memory \(peak.peakAnonymousKB / 1024) MB (target ≤ 300 MB); peak resident \(peak.maxResidentKB / 1024) MB, counting the log's mapped pages")
    }
}

func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

func rate(_ count: Int, _ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

func microseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
}

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    try microseconds(body) / 1000
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p / 100).rounded()))]
}

func directorySize(_ path: String) -> Int {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return files.reduce(0) { sum, file in
        sum + (((try? FileManager.default.attributesOfItem(atPath: path + "/" + file))?[.size] as? NSNumber)?.intValue ?? 0)
    }
}

/// The `iplog` binary built beside this one.
func iplogBinary() -> String? {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iplog").path
    return FileManager.default.isExecutableFile(atPath: beside) ? beside : nil
}

/// Runs a process to its end with `posix_spawn` (Foundation's Process adds tens
/// of milliseconds of its own, which would swamp what is measured), its output
/// discarded; returns its peak resident memory in KiB (wait4's rusage).
@discardableResult
func runProcess(_ path: String, _ arguments: [String]) throws -> Int {
    try runProcessSampling(path, arguments, sampling: false).maxResidentKB
}

/// Starts a process with `posix_spawn`, the environment inherited, standard
/// input from /dev/null and standard output and error into the file `output`.
func spawn(_ path: String, _ arguments: [String], output: String) throws -> pid_t {
    var pid: pid_t = 0
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { throw ValidationError("cannot start \(path)") }
    return pid
}

/// Runs a process to its end: its peak resident memory (kB, from the kernel,
/// counting the pages of mapped files it touched) and the peak of its anonymous
/// memory (kB, `RssAnon`, sampled every 50 ms: what it allocated itself).
func runProcessSampling(_ path: String, _ arguments: [String], sampling: Bool = true) throws -> (maxResidentKB: Int, peakAnonymousKB: Int) {
    let pid = try spawn(path, arguments, output: "/dev/null")
    var status: Int32 = 0
    var usage = rusage()
    var peakAnonymous = 0
    if !sampling { wait4(pid, &status, 0, &usage) }
    while sampling, wait4(pid, &status, WNOHANG, &usage) == 0 {
        if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
           let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
            peakAnonymous = max(peakAnonymous, kb)
        }
        usleep(50_000)
    }
    guard status == 0 else { throw ValidationError("\(path) \(arguments.first ?? "") exited with status \(status)") }
    return (usage.ru_maxrss, peakAnonymous)
}

/// One row of the results table.
struct Row {
    var name: String
    var unit: String
    var raw: [Double]
    var iplog: [Double]
    var target: String
    var lowerIsBetter = false
    /// `iplog` holds two values shown as "a / b" (a p50 and a p99), not runs.
    var pair = false

    init(_ name: String, _ unit: String, raw: [Double], iplog: [Double], target: String, lowerIsBetter: Bool = false, pair: Bool = false) {
        self.name = name
        self.unit = unit
        self.raw = raw
        self.iplog = iplog
        self.target = target
        self.lowerIsBetter = lowerIsBetter
        self.pair = pair
    }

    static func format(_ values: [Double], pair: Bool = false) -> String {
        guard !values.isEmpty else { return "–" }
        if pair { return values.map { String(format: "%.1f", $0) }.joined(separator: " / ") }
        let m = percentile(values, 50)
        let s = m >= 100 ? String(format: "%.0f", m) : String(format: "%.1f", m)
        guard values.count > 1, let lo = values.min(), let hi = values.max() else { return s }
        return s + String(format: m >= 100 ? " (%.0f–%.0f)" : " (%.1f–%.1f)", lo, hi)
    }

    /// iplog's speed as a share of raw LMDB's.
    var ratio: String {
        let r = percentile(raw, 50), i = percentile(iplog, 50)
        guard !pair, r > 0, i > 0 else { return "–" }
        let share = lowerIsBetter ? r / i : i / r
        return lowerIsBetter ? String(format: "%.2f× raw's time", i / r) : String(format: "%.0f %%", share * 100)
    }

    static func table(_ rows: [Row]) -> String {
        let header = ["measurement", "unit", "raw LMDB", "iplog", "ratio", "target"]
        let cells = rows.map { [$0.name, $0.unit, format($0.raw), format($0.iplog, pair: $0.pair), $0.ratio, $0.target] }
        var widths = header.map(\.count)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + cells.map(line)).joined(separator: "\n")
    }
}
