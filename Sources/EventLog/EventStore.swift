import Foundation
import JSON
import LMDB

/// The append-only event log of one store, on LMDB.
///
/// A store is a directory; the log is the LMDB environment in its `log/`
/// subdirectory (docs/STORAGE.md has every database and layout). Several
/// processes may use one store at once: LMDB serialises writers, and readers see
/// a consistent snapshot without blocking them.
///
/// All methods are synchronous and thread-safe; each runs its own short
/// transaction(s).
public final class EventStore: Sendable {
    /// The store directory.
    public let directory: String
    let environment: Environment
    let events: Database
    let streamIndex: Database
    let eventIDs: Database
    /// LMDB's main database: the storage format, the chain head and the next key
    /// slot (it is written with every commit anyway, so the head costs no page).
    let main: Database
    let policyState: Database
    /// The per-person keys of sealed values (`keys/person.keys`).
    public let personKeys: PersonKeys
    let clock: @Sendable () -> Timestamp

    /// The storage format this code writes and reads. A store of format 1 is
    /// brought to it when opened (``settleFormat(_:main:directory:)``).
    public static let storageFormat: UInt64 = 2

    /// Opens the store at `directory`, creating it when `create` is true.
    ///
    /// Directories are created with mode 0700 and files with 0600: the store holds
    /// health data. Reader slots left by dead processes are cleared.
    ///
    /// The directory is checked first (``StoreDirectory``): a store is made only
    /// in a missing or empty directory, and an empty or missing log beside a
    /// store's data is damage. A store of this format is opened in a read
    /// transaction, so that opening writes nothing; the writer's work at open
    /// (upgrading a format-1 key file, finishing erasures cut short) is done
    /// only with `create`.
    ///
    /// - Parameter allowDamagedKeys: open a store whose key file is missing or
    ///   cut short (for `verify`, which names the missing keys).
    /// - Throws: ``LogError`` `.noStore` when there is no store and `create` is
    ///   false, the directory is not a store, or the store has another format;
    ///   `.damaged` when the log is empty, cut short or unreadable, or the key
    ///   file is missing or short; `.diskFull` when there is no room to open it;
    ///   ``LMDBError`` when LMDB fails otherwise.
    public init(
        directory: String, create: Bool = true, mapSize: Int = 256 << 20, durable: Bool = true,
        clock: @escaping @Sendable () -> Timestamp = EventStore.systemClock, allowDamagedKeys: Bool = false
    ) throws {
        self.directory = directory
        self.clock = clock
        let layout = StoreDirectory(path: directory)
        let isNew = try layout.prepare(create: create)
        let (environment, opened) = try Self.reportingDamage(directory) { try Self.reportingFullDisk {
            let environment = try Environment(path: layout.logPath, mapSize: mapSize, maxDatabases: 8, flags: durable ? [] : [.noSync])
            try environment.clearStaleReaders()  // the lock file's reader table only
            if !isNew, let handles = try Self.openForReading(environment, directory: directory) { return (environment, handles) }
            return (environment, try environment.write { txn in
                let main = try txn.mainDatabase()
                try Self.settleFormat(txn, main: main, directory: directory, create: create)
                let handles = try [main] + Self.databaseNames.map { try txn.openDatabase(named: $0, flags: .create) }
                return (handles, try KeyAllocator.keysGiven(txn, main: main))
            })
        } }
        self.environment = environment
        let handles = opened.handles
        (main, events, streamIndex, eventIDs, policyState) = (handles[0], handles[1], handles[2], handles[3], handles[4])
        personKeys = try PersonKeys(directory: directory, keysGiven: opened.keysGiven, create: create, allowDamage: allowDamagedKeys)
        if create {
            if personKeys.isLegacy { try upgradeKeyFile(keysGiven: opened.keysGiven) }
            try finishKeyErasures()
        }
    }

    /// Brings a key file of format 1 (where an erased slot was zeros) to format
    /// 2: each zero slot is recorded as erased in the log, then marked in the file.
    func upgradeKeyFile(keysGiven: UInt32) throws {
        try Self.reportingFullDisk { try environment.write { txn in
            for slot in 0..<keysGiven where try txn.get(main, key: Self.erasureKey(slot)) == nil {
                if case .erased = try personKeys.slot(slot) {
                    try txn.put(main, key: Self.erasureKey(slot), value: bigEndianBytes(UInt64(0)))  // time unknown
                }
            }
        } }
        _ = try personKeys.upgrade(keysGiven: keysGiven)
    }

    static let databaseNames = ["events", "streamIndex", "eventIds", "policyState"]

    /// The databases of a store of this format, opened in a read transaction, so
    /// that a command that only reads writes nothing; nil when the store must
    /// first be settled in a write transaction (new, or of format 1).
    static func openForReading(_ environment: Environment, directory: String) throws -> (handles: [Database], keysGiven: UInt32)? {
        let main = try environment.mainDatabase()
        let ready = try environment.read { txn -> UInt32? in
            guard try txn.get(main, key: formatKey) == bigEndianBytes(storageFormat) else { return nil }
            return try KeyAllocator.keysGiven(txn, main: main)
        }
        guard let keysGiven = ready else { return nil }
        return ([main] + (try databaseNames.map { try environment.openDatabase(named: $0) }), keysGiven)
    }

    /// Runs `body`, turning a data file that is cut short or emptied
    /// (``StorageDamage``) and LMDB's own damage codes into ``LogError`` `.damaged`.
    static func reportingDamage<R>(_ directory: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as StorageDamage {
            throw LogError(.damaged, error.message + "; restore the store from a backup")
        } catch let error as LMDBError where error.meansDamage {
            throw LogError(.damaged, "the log of \(directory) is damaged (\(error.message)); run `iplog verify` and restore from a backup")
        }
    }

    static let formatKey = Array("format".utf8)

    /// Checks the store's storage format, stamping a new store with this code's
    /// and bringing a format-1 store to format 2, inside the opening transaction
    /// (so another process sees the old store or the new one, never a mix).
    ///
    /// Format 1 kept the format, chain head and key counter in a `meta` database
    /// and each stream's last version and position in `streamHeads`; format 2
    /// keeps them in LMDB's main database and reads a stream's head from the last
    /// entry of its stream index. Every event, index entry and policy value stays
    /// as it is. `meta` stays, holding only `format` = 2, never written again:
    /// code of format 1 reads the format there and refuses the store, instead of
    /// taking it for an empty one.
    static func settleFormat(_ txn: borrowing WriteTransaction, main: Database, directory: String, create: Bool = true) throws {
        let unreadable = LogError(.noStore, "the store at \(directory) has a storage format this version does not read")
        if let format = try txn.get(main, key: formatKey) {
            guard format == bigEndianBytes(storageFormat) else { throw unreadable }
            return
        }
        let legacyMeta: Database
        if let oldMeta = try txn.existingDatabase(named: "meta") {
            let format = try txn.get(oldMeta, key: formatKey)
            if format == bigEndianBytes(storageFormat) {
                throw LogError(.damaged, "the store at \(directory) has lost its storage format record; restore it from a backup")
            }
            guard format == bigEndianBytes(UInt64(1)) else { throw unreadable }
            var entries: [([UInt8], [UInt8])] = []
            try txn.scan(oldMeta) { key, value in
                entries.append((Array(key), Array(value)))
                return true
            }
            for (key, value) in entries where key != formatKey {
                try txn.put(main, key: key, value: value)
            }
            try txn.empty(oldMeta)
            if let heads = try txn.existingDatabase(named: "streamHeads") { try txn.drop(heads) }
            legacyMeta = oldMeta
        } else if let events = try txn.existingDatabase(named: "events"), try txn.statistics(events).entries > 0 {
            throw LogError(.damaged, "the store at \(directory) holds events but no storage format record; restore it from a backup")
        } else {
            guard create else { throw LogError(.noStore, "no store at \(directory): its log was never initialised (a store creation that was cut short?); the next import or append makes it") }
            legacyMeta = try txn.openDatabase(named: "meta", flags: .create)
        }
        try txn.put(legacyMeta, key: formatKey, value: bigEndianBytes(storageFormat))
        try txn.put(main, key: formatKey, value: bigEndianBytes(storageFormat))
    }

    /// The system's clock.
    public static let systemClock: @Sendable () -> Timestamp = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microsecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }

    // MARK: Keys

    static let headKey = Array("head".utf8)
    static let zeroHash = [UInt8](repeating: 0, count: 32)

    static func streamKey(_ stream: String, version: UInt64) -> [UInt8] {
        var key = Array(stream.utf8)
        key.append(0)
        appendBigEndian(version, to: &key)
        return key
    }

    // MARK: Head

    /// The last position and its chain hash (0 and 32 zero bytes for an empty log).
    public struct Head: Hashable, Sendable {
        public var position: UInt64
        public var hash: [UInt8]
    }

    /// The log's head as of now.
    public func head() throws -> Head {
        try environment.read { txn in try readHead(txn) }
    }

    func readHead(_ txn: borrowing some Transaction & ~Copyable) throws -> Head {
        guard let value = try txn.get(main, key: Self.headKey) else { return Head(position: 0, hash: Self.zeroHash) }
        guard value.count == 40 else { throw LogError(.damaged, "the chain head record is damaged") }
        let position = value.withUnsafeBytes { readBigEndianUInt64(UnsafeRawBufferPointer(rebasing: $0[0..<8]))! }
        return Head(position: position, hash: Array(value[8...]))
    }

    /// The stream's current version (0 when it has no events).
    public func version(of stream: String) throws -> UInt64 {
        try environment.read { txn in try readStreamVersion(txn, stream) }
    }

    /// The version of `stream`'s last event (0 when it has none): the version
    /// in the last key of its stream-index range.
    func readStreamVersion(_ txn: borrowing some Transaction & ~Copyable, _ stream: String) throws -> UInt64 {
        let last = Self.streamKey(stream, version: .max)
        let prefixLength = last.count - 8
        var version: UInt64 = 0
        try txn.scan(streamIndex, from: last, reverse: true) { key, value in
            guard key.count == last.count, key.starts(with: last[..<prefixLength]) else { return false }
            guard value.count == 8 else { throw LogError(.damaged, "the stream index of \(stream) is damaged") }
            version = readBigEndianUInt64(UnsafeRawBufferPointer(rebasing: key[prefixLength...]))!
            return false
        }
        return version
    }

    /// Visits each stream whose id starts with `prefix`, in id order, with its
    /// version: two cursor seeks a stream (its first index entry, then its last).
    func forEachStream(_ txn: borrowing some Transaction & ~Copyable, prefix: String, _ body: (String, UInt64) throws -> Void) throws {
        try forEachStreamName(txn, prefix: prefix) { stream in
            let id = String(decoding: stream, as: UTF8.self)
            try body(id, try readStreamVersion(txn, id))
        }
    }

    /// Each stream's name whose name starts with `prefix`, as UTF-8, in order: one seek of the stream index a stream.
    func forEachStreamName(_ txn: borrowing some Transaction & ~Copyable, prefix: String, _ body: ([UInt8]) throws -> Void) throws {
        let p = Array(prefix.utf8)
        var from = p
        while true {
            var next: [UInt8]?
            try txn.scan(streamIndex, from: from.isEmpty ? nil : from) { key, _ in
                guard key.starts(with: p) else { return false }
                guard let end = key.firstIndex(of: 0) else { throw LogError(.damaged, "a stream index key has no version") }
                next = Array(key[..<end])
                return false
            }
            guard let stream = next else { return }
            try body(stream)
            from = stream + [1]  // past every "<stream>\0…" key, before any other stream's
        }
    }
}
