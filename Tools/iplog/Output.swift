import ArgumentParser
import Domain
import EventLog
import Foundation
import JSON

/// Buffered standard output: reports and exports write through it, not `print`.
final class StandardOutput {
    private var buffer: [UInt8] = []
    private let descriptor: Int32

    /// Standard output, or the file at `path` (created with mode 0600).
    init(path: String? = nil) {
        descriptor = path.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o600) } ?? 1
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func line(_ text: String = "") { write(text + "\n") }

    func json(_ value: JSONValue) {
        var out: [UInt8] = []
        value.write(to: &out)
        out.append(0x0A)
        write(out)
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit {
        flush()
        if descriptor != 1 { close(descriptor) }
    }
}

/// One line on standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether standard error is a terminal (progress is shown only then).
var standardErrorIsTerminal: Bool { isatty(2) == 1 }

/// The contract's exit codes.
enum Exit {
    static let done: Int32 = 0
    static let failure: Int32 = 1
    static let badInput: Int32 = 2
    static let refused: Int32 = 3
    static let conflict: Int32 = 4
}

/// The code, message and exit code of an error, as CONTRACT.md prints refusals.
struct ErrorReport {
    var code: String
    var message: String
    var exitCode: Int32

    init(code: String, message: String, exitCode: Int32) {
        self.code = code
        self.message = message
        self.exitCode = exitCode
    }

    init(_ error: any Error) {
        self = ErrorReport.describe(error)
    }

    private static func describe(_ error: any Error) -> ErrorReport {
        switch error {
        case let failure as AppendFailure:
            return describe(failure.error)
        case let failure as ImportFailure:
            return describe(failure.error)
        case let error as LogError:
            let exit: Int32 = switch error.code {
            case .invalidShape, .invalidDate, .invalidPersonId, .unknownStream, .unknownPerson: Exit.badInput
            case .versionConflict: Exit.conflict
            case .duplicateEventId: Exit.refused
            default: Exit.failure
            }
            return ErrorReport(code: error.code.rawValue, message: error.message, exitCode: exit)
        case let refusal as Domain.Refusal:
            return ErrorReport(code: refusal.code.rawValue, message: refusal.message, exitCode: Exit.refused)
        case let error as JSONSyntaxError:
            return ErrorReport(code: "invalidShape", message: "malformed JSON: \(error)", exitCode: Exit.badInput)
        default:
            return ErrorReport(code: "internal", message: "\(error)", exitCode: Exit.failure)
        }
    }
}

/// Reports `error` as the contract says (one line on stderr starting with the
/// code; with `--json`, also `{"error": …}` on stdout) and exits with its code.
func fail(_ error: any Error, json: Bool, line: Int? = nil, output: StandardOutput? = nil) -> ExitCode {
    if let exit = error as? ExitCode { return exit }
    let refusal = ErrorReport(error)
    let place = line.map { "line \($0): " } ?? ""
    printError("[\(refusal.code)] \(place)\(refusal.message)")
    if json {
        let out = output ?? StandardOutput()
        out.json(.object([
            "error": .object([
                "code": .string(refusal.code),
                "message": .string(refusal.message),
                "line": line.map { JSONValue.integer($0) } ?? .null,
            ]),
        ]))
        out.flush()
    }
    return ExitCode(refusal.exitCode)
}

/// Aligned columns for people to read.
struct Table {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    /// The table as text; without `header`, only the rows (for key-value lists).
    func render(header: Bool = true) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let top = header ? [format(headers), format(widths.map { String(repeating: "-", count: $0) })] : []
        return (top + rows.map(format)).joined(separator: "\n")
    }
}
