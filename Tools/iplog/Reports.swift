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
