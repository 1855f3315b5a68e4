import ArgumentParser
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
                One event envelope a line (CONTRACT.md). The lines before the first \
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
            do {
                let store = try storeOptions.open(create: true)
                var policy = DomainPolicy(today: today, lenient: lenient)
                let summary = try store.importEvents(items, batchSize: batchSize, atomic: atomic, policy: &policy) { done in
                    if showProgress { FileHandle.standardError.write(Data("\rimported \(done) lines".utf8)) }
                }
                if showProgress { FileHandle.standardError.write(Data("\r".utf8)) }
                report(summary, to: out)
            } catch let failure as ImportFailure {
                if showProgress { FileHandle.standardError.write(Data("\r".utf8)) }
                if !output.json, failure.committed.imported + failure.committed.skipped > 0 {
                    printError("Committed before line \(failure.line): \(failure.committed.imported) imported, \(failure.committed.skipped) already in the log.")
                }
                throw fail(failure, json: output.json, line: failure.line, output: out)
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }

        func report(_ summary: ImportSummary, to out: StandardOutput) {
            if output.json {
                out.json(.object([
                    "imported": .integer(summary.imported), "skipped": .integer(summary.skipped),
                    "lastPosition": .integer(summary.lastPosition),
                ]))
            } else {
                out.line("Imported \(summary.imported) events; \(summary.skipped) were in the log already. Last position \(summary.lastPosition).")
            }
        }
    }
}

/// Reads a file (or standard input) line by line, with line numbers from 1,
/// without loading it whole.
struct LineReader: Sequence, Sendable {
    let path: String

    init(path: String) throws {
        if path != "-", !FileManager.default.isReadableFile(atPath: path) {
            throw LogError(.invalidShape, "cannot read \(path)")
        }
        self.path = path
    }

    func makeIterator() -> Iterator { Iterator(path: path) }

    final class Iterator: IteratorProtocol {
        private let file: UnsafeMutablePointer<FILE>?
        private let ownsFile: Bool
        private var line: UnsafeMutablePointer<CChar>?
        private var capacity = 0
        private var number = 0

        init(path: String) {
            if path == "-" {
                file = fdopen(dup(0), "r")
                ownsFile = true
            } else {
                file = fopen(path, "r")
                ownsFile = true
            }
        }

        deinit {
            free(line)
            if ownsFile, let file { fclose(file) }
        }

        func next() -> (Int, [UInt8])? {
            guard let file else { return nil }
            let length = getline(&line, &capacity, file)
            guard length >= 0, let line else { return nil }
            number += 1
            var count = length
            if count > 0, line[count - 1] == 0x0A { count -= 1 }
            return (number, [UInt8](UnsafeRawBufferPointer(start: line, count: count)))
        }
    }
}
