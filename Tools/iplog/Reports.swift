import ArgumentParser
import CaseStatus
import CoordinatorWorkload
import Deviations
import EventLog
import Foundation
import JSON
import ProjectionKit

/// The read models of a store, brought up to the log's head before a report, so
/// that the report reflects every event committed before the command started.
struct ReportContext {
    let storePath: String
    let log: EventStore
    let views: ViewStore
    let runner: ProjectionRunner
    let config: DeviationConfig

    static let projectionNames = [CaseStatusProjection.name, DeviationsProjection.name, CoordinatorWorkloadProjection.name]

    init(_ options: StoreOptions, catchUp: Bool = true) throws {
        storePath = options.path
        log = try options.open(create: false)
        views = try ViewStore(directory: options.path, projections: Self.projectionNames)
        runner = ProjectionRunner(log: log, views: views)
        config = try DeviationConfig.load(store: options.path)
        if catchUp { try self.catchUp() }
    }

    /// Catches every projection up; a stopped one is reported on stderr and the
    /// others go on.
    func catchUp() throws {
        warn(CaseStatusProjection.name, try runner.catchUp(CaseStatusProjection()))
        warn(DeviationsProjection.name, try runner.catchUp(DeviationsProjection()))
        warn(CoordinatorWorkloadProjection.name, try runner.catchUp(CoordinatorWorkloadProjection()))
    }

    func warn(_ name: String, _ checkpoint: Checkpoint) {
        if let stopped = checkpoint.stoppedAt {
            printError("warning: the \(name) read model stopped at position \(stopped) (\(checkpoint.reason ?? "")); it reflects the log up to position \(checkpoint.position). Fix the cause, then run `iplog projections rebuild \(name)`.")
        }
    }

    var deviations: DeviationQuery { DeviationQuery(log: log, views: views, config: config) }

    /// Every unit: those `config.json` lists, and those the cases and
    /// coordinators name, with how many cases (and open ones) and coordinators each has.
    func units() throws -> [(unit: String, cases: Int, openCases: Int, coordinators: Int, listed: Bool)] {
        var counts: [String: (cases: Int, open: Int, coordinators: Int)] = [:]
        for (_, record) in try views.values(StatusRecord.self, projection: CaseStatusProjection.name) {
            if let state = record.caseState, let unit = state.unit {
                counts[unit, default: (0, 0, 0)].cases += 1
                if state.isOpen { counts[unit, default: (0, 0, 0)].open += 1 }
            } else if let unit = record.coordinator?.registered?.unit {
                counts[unit, default: (0, 0, 0)].coordinators += 1
            }
        }
        let listed = Set(config.units ?? [])
        return Set(counts.keys).union(listed).sorted().map { unit in
            let c = counts[unit] ?? (0, 0, 0)
            return (unit, c.cases, c.open, c.coordinators, listed.contains(unit))
        }
    }

    /// Refuses a `--unit` that matches no unit (a typo would otherwise answer
    /// with an empty report), naming the closest.
    func checkUnit(_ unit: String?) throws {
        guard let unit else { return }
        let known = try units().map(\.unit)
        guard !known.contains(unit) else { return }
        let hint = Envelope.closest(to: unit, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
        throw LogError(.invalidShape, "--unit: no unit \"\(unit)\"\(hint); `iplog units` lists them")
    }
}

/// `--json` or `--csv` for reports.
struct ReportFormat: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    @Flag(name: .long, help: "Print CSV (a header line, then one line a row).")
    var csv = false

    @Flag(name: .long, help: "Print CSV for Excel as Norway sets it up: ';' between fields and a UTF-8 byte-order mark, so it opens in columns with æøå intact.")
    var excel = false

    func validate() throws {
        if [json, csv, excel].filter({ $0 }).count > 1 { throw ValidationError("Choose one of --json, --csv and --excel.") }
    }

    /// CSV of either kind.
    var delimited: Bool { csv || excel }

    /// Starts delimited output (Excel's byte-order mark).
    func start(_ out: StandardOutput) {
        if excel { out.write([0xEF, 0xBB, 0xBF]) }
    }

    /// One delimited line.
    func row(_ fields: [String]) -> String { csvLine(fields, separator: excel ? ";" : ",") }
}

/// Reads `--as-of` (default today).
func reportDate(_ text: String?) throws -> BusinessDate {
    guard let text else { return .today() }
    return try Envelope.date(text, field: "--as-of")
}

/// CSV: fields with the separator, a quote or a line break are quoted.
func csvLine(_ fields: [String], separator: Character = ",") -> String {
    fields.map { field in
        field.contains(where: { $0 == separator || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }.joined(separator: String(separator))
}
