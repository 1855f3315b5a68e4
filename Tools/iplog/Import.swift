import Application
import ArgumentParser
import Deviations
import Domain
import EventLog
import Foundation
import JSON

extension IPLog {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Append every event of a JSON Lines file, in order, in batches.",
            discussion: """
                One event envelope a line (the README shows the envelope). The lines before the first \
                bad or refused line are committed and nothing from it on; the error \
                names the line. Event ids are written once, so running the same \
                import again after a fix resumes where it stopped. Blank lines are \
                skipped.
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The JSON Lines file; - for standard input.", valueName: "file"))
        var file: String

        @Flag(help: "All lines or none: one transaction for the whole file.")
        var atomic = false

        @Flag(help: "History migrated from another system: check shape, dates and person ids, not the rules.")
        var lenient = false

        @Option(help: "Events per transaction.")
        var batchSize = 1000

        func validate() throws {
            guard (1...1_000_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 1000000.") }
        }

        func run() throws {
            let out = StandardOutput()
            let lines: LineReader
            do {
                lines = try LineReader(path: file)
            } catch {
                throw fail(error, json: output.json, output: out)
            }
            let today = BusinessDate.today()
            let items = ImportItem.parsedAhead(lines, today: today)
            let showProgress = standardErrorIsTerminal
            // Said last, after the summary or the refusal (whose line starts stderr, as the contract says).
            let isNew = !FileManager.default.fileExists(atPath: storeOptions.path + "/log/data.mdb")
            var created = false
            func sayCreated() { if created { printError("Created a new store at \(storeOptions.path).") } }
            do {
                let store = try storeOptions.open(create: true)
                created = isNew
                let appends = try Appends(store: store, storePath: storeOptions.path)
                let summary = try appends.importLines(items, batchSize: batchSize, atomic: atomic, lenient: lenient,
                                                      caller: .commandLine, today: today) { done in
                    if showProgress { FileHandle.standardError.write(Data("\rimported \(done) lines".utf8)) }
                }
                if showProgress { FileHandle.standardError.write(Data("\r".utf8)) }
                report(summary, to: out)
                sayCreated()
            } catch let failure as ImportFailure {
                if showProgress { FileHandle.standardError.write(Data("\r".utf8)) }
                let exit = fail(failure, json: output.json, line: failure.line, output: out)
                if !output.json, failure.committed.imported + failure.committed.skipped > 0 {
                    printError("Committed before line \(failure.line): \(failure.committed.imported) imported, \(failure.committed.skipped) already in the log.")
                }
                sayCreated()
                throw exit
            } catch {
                let exit = fail(error, json: output.json, output: out)
                sayCreated()
                throw exit
            }
        }

        func report(_ summary: ImportSummary, to out: StandardOutput) {
            if output.json {
                out.json(.object([
                    "imported": .integer(summary.imported), "skipped": .integer(summary.skipped),
                    "lastPosition": .integer(summary.lastPosition),
                ]))
            } else {
                out.line("Imported \(plural(summary.imported, "event")); \(summary.skipped) \(summary.skipped == 1 ? "was" : "were") in the log already. Last position \(summary.lastPosition).")
            }
        }
    }
}

/// Reads a file (or standard input) line by line, with line numbers from 1,
/// without loading it whole. A read that fails (an I/O error, a directory) is
/// the last line it yields, as an error naming the line: never an early end.
struct LineReader: Sequence, Sendable {
    let path: String

    init(path: String) throws {
        if path != "-" {
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw LogError(.ioError, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if (st.st_mode & S_IFMT) == S_IFDIR { throw LogError(.ioError, "cannot read \(path): it is a directory") }
            guard FileManager.default.isReadableFile(atPath: path) else { throw LogError(.ioError, "cannot read \(path): permission denied") }
        }
        self.path = path
    }

    func makeIterator() -> Iterator { Iterator(path: path) }

    final class Iterator: IteratorProtocol {
        private let file: UnsafeMutablePointer<FILE>?
        private let openError: Int32
        private let name: String
        private var line: UnsafeMutablePointer<CChar>?
        private var capacity = 0
        private var number = 0
        private var done = false

        init(path: String) {
            name = path == "-" ? "standard input" : path
            file = path == "-" ? fdopen(dup(0), "r") : fopen(path, "r")
            openError = file == nil ? errno : 0
        }

        deinit {
            free(line)
            if let file { fclose(file) }
        }

        func next() -> (Int, Result<[UInt8], LogError>)? {
            guard !done else { return nil }
            guard let file else {
                done = true
                return (1, .failure(LogError(.ioError, "cannot read \(name): \(String(cString: strerror(openError)))")))
            }
            errno = 0
            let length = getline(&line, &capacity, file)
            // A read that fails mid-line still returns the part read before it: the error flag decides.
            guard length >= 0, ferror(file) == 0, let line else {
                done = true
                guard ferror(file) != 0 else { return nil }  // the end of the file
                let code = errno == 0 ? EIO : errno
                return (number + 1, .failure(LogError(.ioError, "reading \(name) failed at this line (\(String(cString: strerror(code)))); the lines before it were imported, nothing from it on")))
            }
            number += 1
            var count = length
            if count > 0, line[count - 1] == 0x0A { count -= 1 }
            return (number, .success([UInt8](UnsafeRawBufferPointer(start: line, count: count))))
        }
    }
}
