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
    private func upgradeKeyFile(keysGiven: UInt32) throws {
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
    private static func openForReading(_ environment: Environment, directory: String) throws -> (handles: [Database], keysGiven: UInt32)? {
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
            let id = String(decoding: stream, as: UTF8.self)
            try body(id, try readStreamVersion(txn, id))
            from = stream + [1]  // past every "<stream>\0…" key, before any other stream's
        }
    }

    // MARK: Append

    /// What became of one appended event.
    public struct Outcome: Hashable, Sendable {
        public var position: UInt64
        public var version: UInt64
        public var stream: String
        public var eventID: EventID
        /// False when the event id was in the log already with the same content:
        /// the append answered with the position it has.
        public var written: Bool
    }

    /// Appends `batch` in one write transaction: every event, or (when any is
    /// refused) none.
    ///
    /// Per event, in order: an event id already in the log answers with its
    /// position (same stream and content) or is refused (`duplicateEventId`);
    /// then `policy` checks it; then its expected version is checked. Positions
    /// are assigned inside the transaction, so commit order is position order.
    ///
    /// - Throws: ``AppendFailure`` naming the refused event (its `error` is a
    ///   ``LogError`` or the policy's error); ``LMDBError`` when storage fails.
    @discardableResult
    public func append(_ batch: [ProposedEvent], policy: inout some AppendPolicy) throws -> [Outcome] {
        var immediate: DeferredEventIDs?
        return try append(batch, policy: &policy, deferring: false, deferred: &immediate)
    }

    /// ``append(_:policy:)``, and with `deferring` the batch's event ids go into
    /// `deferred` instead of the event id index (an import's batches; see
    /// ``DeferredEventIDs``). Without it, ids an earlier import deferred are put
    /// into the index first.
    func append(
        _ batch: [ProposedEvent], policy: inout some AppendPolicy, deferring: Bool, deferred: inout DeferredEventIDs?
    ) throws -> [Outcome] {
        for (i, event) in batch.enumerated() {
            if let problem = Self.envelopeProblem(event) { throw AppendFailure(index: i, error: problem) }
        }
        let committed: (outcomes: [Outcome], indexed: UInt64, head: UInt64, tailIsKept: Bool,
                        written: [EventID: (index: Int, position: UInt64, version: UInt64)], erasing: Bool)
        do {
            // The import's ids, read inside the transaction; out of scope before they
            // are added to (so they are not copied).
            let kept = deferred
            committed = try Self.reportingFullDisk { try environment.write { txn in
                policy.beginBatch()
                let allocator = KeyAllocator()
                var head = try readHead(txn)
                try checkChainHead(txn, head)
                // The event id index is complete through `indexed`; the ids after it
                // are the import's (`deferred`) when it wrote them, else caught up now.
                let mark = try readIDsThrough(txn)
                let stored = mark ?? head.position
                var indexed = stored
                let tailIsKept = kept?.through == stored && kept?.head == head.position
                if !tailIsKept && stored < head.position {
                    try catchUpEventIDs(txn, after: stored)
                    indexed = head.position
                }
                var heads: [String: UInt64] = .init(minimumCapacity: batch.count)  // versions of the streams this batch wrote
                var written: [EventID: (index: Int, position: UInt64, version: UInt64)] = .init(minimumCapacity: batch.count)
                var outcomes: [Outcome] = []
                outcomes.reserveCapacity(batch.count)
                for (i, event) in batch.enumerated() {
                    do {
                        if let earlier = written[event.eventID] {
                            let same = batch[earlier.index].stream == event.stream && batch[earlier.index].type == event.type
                                && batch[earlier.index].occurredOn == event.occurredOn
                                && batch[earlier.index].packedPayload() == event.packedPayload()
                            guard same else { throw Self.duplicateIDError(event) }
                            outcomes.append(Outcome(position: earlier.position, version: earlier.version, stream: event.stream, eventID: event.eventID, written: false))
                            continue
                        }
                        let earlier = tailIsKept ? kept?.ids[event.eventID] : nil
                        if let existing = try existingOutcome(txn, event, at: earlier) {
                            outcomes.append(existing)
                            continue
                        }
                        let current = try heads[event.stream] ?? readStreamVersion(txn, event.stream)
                        let sealing = try policy.admit(event, streamVersion: current,
                                                       log: LogView(store: self, transaction: txn.unsafeReference, batchHeads: heads, keys: allocator))
                        try Self.checkExpected(event, current: current)

                        // The payload is packed once: sealed when the policy asks and
                        // there is something to seal, else as it is.
                        var stored: [UInt8]
                        var sealed: SealedValues?
                        if let sealing {
                            let (clear, strings) = event.packedPayload(sealing: sealing.fields)
                            stored = clear
                            if !strings.isEmpty {
                                sealed = try SealedValues.seal(strings, key: sealing.key, slot: sealing.slot, eventID: event.eventID)
                            }
                        } else {
                            stored = event.packedPayload()
                        }
                        let position = head.position + 1
                        let version = current + 1
                        let (record, hash) = RecordCodec.encode(
                            position: position, version: version, event: event, packedPayload: stored,
                            sealed: sealed, recordedAt: clock(), previousHash: head.hash)
                        let positionKey = PositionKey(position: position)
                        try txn.put(events, key: positionKey, value: record, flags: .append)
                        try txn.put(streamIndex, key: Self.streamKey(event.stream, version: version), value: positionKey, flags: .noOverwrite)
                        if !deferring {
                            try txn.put(eventIDs, key: event.eventID, value: positionKey, flags: .noOverwrite)
                        }
                        head = Head(position: position, hash: hash)
                        heads[event.stream] = version
                        written[event.eventID] = (i, position, version)
                        outcomes.append(Outcome(position: position, version: version, stream: event.stream, eventID: event.eventID, written: true))
                    } catch let error as LMDBError {
                        throw error  // Environment.write grows the map on mapFull and retries
                    } catch {
                        throw AppendFailure(index: i, error: error)
                    }
                }
                for change in policy.endBatch() {
                    if let value = change.value {
                        try txn.put(policyState, key: change.key, value: value)
                    } else {
                        try txn.delete(policyState, key: change.key)
                    }
                }
                if let next = allocator.next {
                    if allocator.wroteKeys { try personKeys.sync() }  // the keys are on disk before any event sealed with them
                    try txn.put(main, key: KeyAllocator.nextKey, value: withUnsafeBytes(of: next.bigEndian) { Array($0) })
                }
                // Keys born erased (an imported case whose person was erased before its export):
                // recorded as erasures with the batch, destroyed once it has committed.
                for slot in allocator.toErase { try recordErasure(txn, slot: slot) }
                if !written.isEmpty {
                    try txn.put(main, key: Self.headKey, value: bigEndianBytes(head.position) + head.hash)
                }
                if !deferring { indexed = head.position }  // this batch's ids are in
                if indexed < head.position {
                    try txn.put(main, key: Self.idsThroughKey, value: bigEndianBytes(indexed))
                } else if mark != nil {
                    _ = try txn.delete(main, key: Self.idsThroughKey)
                }
                return (outcomes: outcomes, indexed: indexed, head: head.position, tailIsKept: tailIsKept, written: written,
                        erasing: !allocator.toErase.isEmpty)
            } }
        }
        if committed.erasing { try finishKeyErasures() }
        if deferring {
            // Committed: the batch's ids join the import's (in place, not copied).
            if !committed.tailIsKept { deferred = DeferredEventIDs(through: committed.indexed) }
            for (id, event) in committed.written { deferred!.ids[id] = event.position }
            deferred!.head = committed.head
        }
        policy.didCommit()
        return committed.outcomes
    }

    /// Runs `body`, turning LMDB's "no space" errors into ``LogError/Code/diskFull``
    /// naming `what` was being written: LMDB writes the meta page last, so a
    /// commit that fails for want of space leaves the environment as it was.
    public static func reportingFullDisk<R>(_ what: String = "the store", _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as LMDBError where error.meansDiskFull {
            throw LogError(.diskFull, "no space for \(what) (\(error.message)): nothing was written; free space and run the command again")
        } catch let error as LMDBError where error.code == EIO {
            // LMDB reports a short write (what a full disk gives) as EIO.
            throw LogError(.diskFull, "\(what) could not be written (\(error.message); is the disk full?): nothing was written; free space, check the disk, and run the command again")
        }
    }

    /// Appends one event; see ``append(_:policy:)``.
    @discardableResult
    public func append(_ event: ProposedEvent, policy: inout some AppendPolicy) throws -> Outcome {
        try append([event], policy: &policy)[0]
    }

    /// The outcome of an event whose id is already in the log with the same
    /// content, nil when the id is new; throws when the content differs.
    /// `deferred` is the id's position among the ids an import has not yet put
    /// into the index (nil: look in the index).
    private func existingOutcome(_ txn: borrowing WriteTransaction, _ event: ProposedEvent, at deferred: UInt64?) throws -> Outcome? {
        let found: [UInt8]?
        if let deferred { found = bigEndianBytes(deferred) } else { found = try txn.get(eventIDs, key: event.eventID) }
        guard let positionBytes = found else { return nil }
        let position = positionBytes.withUnsafeBytes { readBigEndianUInt64($0) } ?? 0
        guard let stored = try txn.withValue(events, key: positionBytes, { bytes in
            try? RecordCodec.decode(position: position, bytes)
        }), let recorded = stored else {
            throw LogError(.damaged, "the event id index points at position \(position), which does not decode")
        }
        guard recorded.stream == event.stream, recorded.type == event.type, recorded.occurredOn == event.occurredOn
        else { throw Self.duplicateIDError(event) }
        let outcome = Outcome(position: position, version: recorded.version, stream: recorded.stream, eventID: event.eventID, written: false)
        var payload = recorded.packedPayload
        if let sealed = recorded.sealed {
            // Compare with the values opened; when the person's key is erased only
            // the envelope can be compared, and the event is not stored again.
            guard let strings = try personKeys.unseal(sealed, eventID: recorded.eventID, position: position) else { return outcome }
            payload = PackedJSON.encode(try PackedJSON.decode(recorded.packedPayload, unsealing: strings))
        }
        guard payload == event.packedPayload() else { throw Self.duplicateIDError(event) }
        return outcome
    }

    private static func duplicateIDError(_ event: ProposedEvent) -> LogError {
        LogError(.duplicateEventId, "event id \(event.eventID) is already in the log with another stream or content")
    }

    static func checkExpected(_ event: ProposedEvent, current: UInt64) throws {
        let ok: Bool
        switch event.expectedVersion {
        case .any: ok = true
        case .noStream: ok = current == 0
        case .exactly(let v): ok = current == v
        }
        if !ok {
            throw LogError(.versionConflict, "\(event.stream) is at version \(current), the append expected \(event.expectedVersion)")
        }
    }

    /// Refuses to extend a chain whose head does not match the last stored event.
    private func checkChainHead(_ txn: borrowing WriteTransaction, _ head: Head) throws {
        guard head.position > 0 else {
            // An empty head with events stored means the head record was lost.
            var any = false
            try txn.scan(events, reverse: true) { _, _ in any = true; return false }
            if any { throw LogError(.chainBroken, "events are stored but the chain head is missing; run `iplog verify`") }
            return
        }
        var lastKey: UInt64 = 0
        var lastHash: [UInt8]?
        try txn.scan(events, reverse: true) { key, value in
            lastKey = readBigEndianUInt64(key) ?? 0
            lastHash = RecordCodec.storedHash(value)
            return false
        }
        guard lastKey == head.position, lastHash == head.hash else {
            throw LogError(.chainBroken, "the chain head (position \(head.position)) does not match the last stored event; the store is damaged, run `iplog verify` and restore from a backup")
        }
    }

    /// Why an envelope is malformed, or nil when it is well formed.
    public static func envelopeProblem(_ event: ProposedEvent) -> LogError? {
        if !isValidStreamID(event.stream) {
            return LogError(.invalidShape, "field stream: \"category-id\" of letters, digits, '.', '_' or '-' (at most 200 characters) expected")
        }
        let type = event.type.utf8
        if type.isEmpty || type.count > 64 || !type.allSatisfy({ isAlphanumeric($0) }) || !(type.first! >= 0x41 && type.first! <= 0x5A) {
            return LogError(.invalidShape, "field type: an event type name (letters and digits, starting with a capital) expected")
        }
        if let actor = event.actor, actor.utf8.count > 200 || containsControlCharacter(actor) {
            return LogError(.invalidShape, "field actor: at most 200 characters, no control characters")
        }
        guard case .object = event.payload else {
            return LogError(.invalidShape, "field data: a JSON object expected, found \(event.payload.kindName)")
        }
        return nil
    }

    /// Whether `text` has a control character (Unicode category Cc: U+0000–U+001F,
    /// U+007F–U+009F), read from its UTF-8 bytes (C1 controls are 0xC2 0x80–0x9F).
    public static func containsControlCharacter(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for b in text.utf8 {
            if b < 0x20 || b == 0x7F || (previous == 0xC2 && b >= 0x80 && b <= 0x9F) { return true }
            previous = b
        }
        return false
    }

    /// `category-id`: a letter-led category, '-', then letters, digits, '.', '_', '-'.
    public static func isValidStreamID(_ stream: String) -> Bool {
        let u = Array(stream.utf8)
        guard u.count <= 200, let dash = u.firstIndex(of: UInt8(ascii: "-")), dash > 0, dash < u.count - 1,
              u[0] >= 0x41 && u[0] <= 0x7A && isAlphanumeric(u[0]) else { return false }
        return u[..<dash].allSatisfy(isAlphanumeric)
            && u[(dash + 1)...].allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    // MARK: Reading

    /// Events of the log from `position` on, at most `limit`, in position order,
    /// in one short read transaction (a page).
    public func read(from position: UInt64 = 1, limit: Int = 1000) throws -> [RecordedEvent] {
        try environment.read { txn in
            var out: [RecordedEvent] = []
            try txn.scan(events, from: bigEndianBytes(max(position, 1))) { key, value in
                let p = readBigEndianUInt64(key) ?? 0
                out.append(try RecordCodec.decode(position: p, value))
                return out.count < limit
            }
            return out
        }
    }

    /// Visits every event from `position` on in pages of `pageSize`, each page its
    /// own read transaction (a long read transaction would keep LMDB from reusing
    /// pages), until `body` returns false. Events committed while it runs are
    /// visited too.
    public func forEach(from position: UInt64 = 1, pageSize: Int = 4096, _ body: (RecordedEvent) throws -> Bool) throws {
        var next = max(position, 1)
        while true {
            let page = try read(from: next, limit: pageSize)
            for event in page where try !body(event) { return }
            guard let last = page.last, page.count == pageSize else { return }
            next = last.position + 1
        }
    }

    /// Events of one stream from `version` on (forwards), or from `version` back
    /// to 1 (`backwards`; nil starts at the last), at most `limit`.
    public func read(stream: String, from version: UInt64? = nil, backwards: Bool = false, limit: Int = .max) throws -> [RecordedEvent] {
        try environment.read { txn in
            try readStream(txn, stream, from: version ?? (backwards ? UInt64.max : 1), backwards: backwards, limit: limit)
        }
    }

    func readStream(_ txn: borrowing some Transaction & ~Copyable, _ stream: String, from version: UInt64, backwards: Bool, limit: Int) throws -> [RecordedEvent] {
        var strings = StringTable()
        return try readStream(txn, stream, from: version, backwards: backwards, limit: limit, strings: &strings)
    }

    func readStream(_ txn: borrowing some Transaction & ~Copyable, _ stream: String, from version: UInt64, backwards: Bool, limit: Int,
                    strings: inout StringTable) throws -> [RecordedEvent] {
        let prefix = Array(stream.utf8) + [0]
        strings.stream = (Array(stream.utf8), stream)
        var positions: [UInt64?] = []
        try txn.scan(streamIndex, from: Self.streamKey(stream, version: version), reverse: backwards) { key, value in
            guard key.count == prefix.count + 8, key.starts(with: prefix) else { return false }
            positions.append(readBigEndianUInt64(value))
            return positions.count < limit
        }
        var out: [RecordedEvent] = []
        out.reserveCapacity(positions.count)
        for position in positions {
            guard let position, let event = try txn.withValue(events, key: PositionKey(position: position), { bytes in
                try? RecordCodec.decode(position: position, bytes, strings: &strings)
            }), let event else {
                throw LogError(.damaged, "the stream index of \(stream) points at position \(position ?? 0), which does not decode")
            }
            out.append(event)
        }
        return out
    }

    /// The events of each of `streams` at log positions up to `position`, read
    /// in one read transaction (a rebuild reads the log a few hundred streams at a time).
    public func read(streams: [String], through position: UInt64) throws -> [[RecordedEvent]] {
        try environment.read { txn in
            var strings = StringTable()
            return try streams.map { stream in
                try readStream(txn, stream, from: 1, backwards: false, limit: .max, strings: &strings).filter { $0.position <= position }
            }
        }
    }

    /// Every stream id with its version, in id order; `prefix` filters (e.g. `case-`).
    public func streams(prefix: String = "") throws -> [(stream: String, version: UInt64)] {
        try environment.read { txn in
            var out: [(String, UInt64)] = []
            try forEachStream(txn, prefix: prefix) { stream, version in out.append((stream, version)) }
            return out
        }
    }

    // MARK: Facts

    /// Counts and sizes (`iplog stats`).
    public struct Statistics: Sendable {
        public var events: Int
        public var streams: Int
        public var head: Head
        public var fileBytes: Int
        public var usedBytes: Int
        public var mapSize: Int
    }

    public func statistics() throws -> Statistics {
        let (eventCount, streamCount, head) = try environment.read { txn in
            var streams = 0
            try forEachStream(txn, prefix: "") { _, _ in streams += 1 }
            return (try txn.statistics(events).entries, streams, try readHead(txn))
        }
        let info = environment.info
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/log/data.mdb")
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        return Statistics(events: eventCount, streams: streamCount, head: head, fileBytes: size,
                          usedBytes: info.usedBytes, mapSize: info.mapSize)
    }

    /// Writes a consistent, compacted copy of the log to `directory`'s `log/`
    /// while appends go on.
    public func backup(to target: String) throws {
        let logTarget = target + "/log"
        try FileManager.default.createDirectory(atPath: logTarget, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(logTarget, 0o700)
        try Self.reportingFullDisk { try environment.copy(to: logTarget, flags: .compact) }
        try personKeys.copy(to: target)  // after the log: it holds every key the copy uses
    }
}
