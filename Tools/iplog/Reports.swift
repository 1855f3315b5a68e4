import Application
import ArgumentParser
import CaseStatus
import CoordinatorWorkload
import Deviations
import EventLog
import Foundation
import JSON
import ProjectionKit

extension ReportContext {
    /// The CLI's: the store of `--store`, a stopped read model reported on standard error.
    init(_ options: StoreOptions, catchUp: Bool = true) throws {
        try self.init(storePath: options.path, catchUp: catchUp, warn: { printError($0) })
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
