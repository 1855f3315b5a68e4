import ArgumentParser
import EventLog
import Foundation

/// Where the store is.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store directory (default: $IPLOG_STORE, else ./iplog-store).", valueName: "dir"))
    var store: String?

    var path: String {
        store ?? ProcessInfo.processInfo.environment["IPLOG_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "./iplog-store"
    }

    /// Opens the store; commands that only read refuse a missing store rather than create one.
    func open(create: Bool) throws -> EventStore {
        try EventStore(directory: path, create: create)
    }
}

/// How results are printed.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false
}
