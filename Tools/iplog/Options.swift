import AccessLog
import Application
import ArgumentParser
import EventLog
import Foundation

/// Where the store is.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store directory (default: $IPLOG_STORE, else ./iplog-store).", valueName: "dir"))
    var store: String?

    var path: String { Self.path(store: store) }

    /// The store directory for `--store` given as `store` (nil: not given).
    static func path(store: String?) -> String {
        store ?? ProcessEnvironment.value("IPLOG_STORE").flatMap { $0.isEmpty ? nil : $0 } ?? "./iplog-store"
    }

    /// Opens the store; commands that only read refuse a missing store rather than create one.
    /// `allowDamagedKeys`: open a store whose key file is missing or cut short
    /// (for `verify`, which names the missing keys).
    func open(create: Bool, allowDamagedKeys: Bool = false) throws -> EventStore {
        try EventStore(directory: path, create: create, allowDamagedKeys: allowDamagedKeys)
    }
}

/// How results are printed.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false
}

/// Who reads and why, for the access log (Normen; helsepersonelloven §21a).
struct AccessOptions: ParsableArguments {
    @Option(help: "Who is reading, for the access log (default: $IPLOG_ACTOR, else the OS user).")
    var actor: String?

    @Option(help: "Why you are reading: the service need, recorded in the access log.")
    var reason: String?

    var who: String { Self.who(actor: actor) }

    /// The reader, as the application's reads record them: the store's operator.
    var caller: Caller { .storeOperator(who) }

    /// `actor`, else `$IPLOG_ACTOR`, else the OS user.
    static func who(actor: String?) -> String {
        if let actor { return actor }
        if let env = ProcessEnvironment.actor { return env }
        if let pw = getpwuid(getuid()) { return String(cString: pw.pointee.pw_name) }
        return "uid \(getuid())"
    }
}

extension Caller {
    /// Whoever runs this command without `--actor`: `$IPLOG_ACTOR`, else the OS user; the store's operator.
    static var commandLine: Caller { .storeOperator(AccessOptions.who(actor: nil)) }
}

/// A stream id given on the command line.
enum StreamArgument {
    /// Refuses what cannot be a stream id (empty, too long, other characters) as
    /// bad input, before it reaches the store.
    static func check(_ stream: String?) throws {
        guard let stream else { return }
        guard EventStore.isValidStreamID(stream) else {
            throw LogError(.invalidShape, "stream: \"category-id\" of letters, digits, '.', '_' or '-' (at most 200 characters) expected, e.g. case-000123")
        }
    }
}
