import Application
import ArgumentParser
import Domain
import EventLog
import Foundation
import JSON
import LMDB
import Synchronization

/// Buffered standard output, or a file: reports and exports write through it,
/// not `print`, and every write is checked. A write that fails (a full disk,
/// `/dev/full`, a closed pipe) is remembered and reported by ``finish()``
/// with exit 1, never taken for success.
///
/// A file (`--out`) may hold full person ids: it is written to a new file of
/// mode 0600 beside it and renamed into place by ``finish()`` after a sync, so
/// an existing file is replaced whole (with its mode) or left as it was.
final class StandardOutput {
    private var buffer: [UInt8] = []
    private let descriptor: Int32
    /// The file being replaced and the temporary written in its place.
    private let file: (path: String, temporary: String)?
    private var failure: Int32?
    private var finished = false

    /// Standard output.
    init() {
        descriptor = 1
        file = nil
        buffer.reserveCapacity(1 << 16)
    }

    /// The file at `path` (nil: standard output), written as a whole.
    /// - Throws: ``LogError`` when it cannot be created (a missing directory, no permission).
    init(path: String?) throws {
        buffer.reserveCapacity(1 << 16)
        guard let path else {
            descriptor = 1
            file = nil
            return
        }
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            // A device or a pipe (/dev/stdout, a FIFO): written in place, never replaced.
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.error(errno, "\(path) cannot be opened") }
            descriptor = fd
            file = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.error(errno, "\(path) cannot be created") }
        fchmod(fd, 0o600)  // whatever the umask
        descriptor = fd
        file = (path, temporary)
    }

    /// Whether this writes a file rather than standard output.
    var isFile: Bool { file != nil }

    func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { drain() }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    /// A line for people to read: control characters other than line breaks
    /// (a terminal escape, CR, NUL, stored before the catalogue refused them)
    /// are shown as `\u{1B}` rather than sent to the terminal.
    func line(_ text: String = "") { write(Self.printable(text) + "\n") }

    static func printable(_ text: String) -> String {
        guard EventStore.containsControlCharacter(text.replacingOccurrences(of: "\n", with: " ")) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar != "\n" && (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    func json(_ value: JSONValue) {
        var out: [UInt8] = []
        value.write(to: &out)
        out.append(0x0A)
        write(out)
    }

    /// Writes what is buffered; a failure is kept for ``flush()`` and ``finish()``.
    private func drain() {
        defer { buffer.removeAll(keepingCapacity: true) }
        guard failure == nil, !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    failure = n < 0 ? errno : EIO
                    return
                }
                offset += n
            }
        }
    }

    /// Writes what is buffered.
    /// - Throws: ``LogError`` when this or an earlier write failed.
    func flush() throws {
        drain()
        if let failure { throw Self.error(failure, file.map { "\($0.path) could not be written" } ?? "standard output could not be written") }
    }

    /// Writes everything and, for a file, syncs it and renames it into place.
    /// - Throws: ``LogError`` when any write, the sync or the rename failed (the
    ///   file is then left as it was).
    func finish() throws {
        guard !finished else { return }
        finished = true
        do {
            try flush()
            guard let file else { return }
            if fsync(descriptor) != 0 { throw Self.error(errno, "\(file.path) could not be written") }
            close(descriptor)
            if rename(file.temporary, file.path) != 0 { throw Self.error(errno, "\(file.path) could not be put in place") }
            let directory = URL(fileURLWithPath: file.path).deletingLastPathComponent().path
            let dirfd = open(directory, O_RDONLY | O_CLOEXEC)
            if dirfd >= 0 { fsync(dirfd); close(dirfd) }
        } catch {
            if let file { close(descriptor); unlink(file.temporary) }
            throw error
        }
    }

    /// Gives up a file that was not finished (the command failed): the
    /// temporary is removed and an existing file keeps its content.
    func abandon() {
        guard !finished else { return }
        finished = true
        buffer.removeAll()
        if let file { close(descriptor); unlink(file.temporary) }
    }

    static func error(_ code: Int32, _ what: String) -> LogError { LogError.file(code, what) }

    deinit {
        defer { if file == nil && descriptor > 2 { close(descriptor) } }  // a device opened by path
        guard !finished else { return }
        if file != nil {
            abandon()  // a file is put in place only by finish()
            return
        }
        // Standard output of a command that did not call finish(): still never a silent loss.
        do {
            try flush()
        } catch {
            printError("[\((error as? LogError)?.code.rawValue ?? "ioError")] \((error as? LogError)?.message ?? "\(error)")")
            exit(Exit.failure)
        }
    }
}

/// `count` and the noun, singular for one: "1 case", "2 cases".
func plural(_ count: Int, _ one: String, _ many: String? = nil) -> String {
    "\(count) " + (count == 1 ? one : many ?? one + "s")
}

/// One line on standard error.
func printError(_ text: String, newline: Bool = true) {
    FileHandle.standardError.write(Data((text + (newline ? "\n" : "")).utf8))
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

extension ErrorReport {
    /// The contract's exit code for this kind of error.
    var exitCode: Int32 {
        switch kind {
        case .badInput, .notFound: Exit.badInput
        case .refused: Exit.refused
        case .conflict: Exit.conflict
        case .forbidden, .unauthenticated, .failure: Exit.failure
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
        let out = output.flatMap { $0.isFile ? nil : $0 } ?? StandardOutput()
        out.json(.object([
            "error": .object([
                "code": .string(refusal.code),
                "message": .string(refusal.message),
                "line": line.map { JSONValue.integer($0) } ?? .null,
            ]),
        ]))
        try? out.flush()
    }
    output?.abandon()
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

/// Runs `body` as a task and waits for it: how a command's synchronous `run`
/// calls asynchronous code (the service, the mirror).
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = TaskOutcome<T>()
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.result.withLock { $0 = result }
        outcome.done.signal()
    }
    outcome.done.wait()
    return try outcome.result.withLock { $0! }.get()
}

/// What ``waitFor(_:)``'s task hands back.
private final class TaskOutcome<T: Sendable>: Sendable {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
}
