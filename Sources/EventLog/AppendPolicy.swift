import Crypto
import LMDB

/// What an append checks beyond the log's own rules (positions, versions, ids):
/// the domain's rules. The log calls it inside its write transaction, so what it
/// checks and what it keeps is consistent with the events it is checked against,
/// across processes.
///
/// The policy keeps its own state in the store as opaque key-value pairs (the
/// `policyState` database): it reads them through ``LogView``, keeps what it
/// changes, and hands the changes back in ``endBatch()``, which the log writes in
/// the same transaction as the events. The log calls ``beginBatch()`` at the
/// start of every write transaction (also when one is retried after the map
/// grew) and ``didCommit()`` after it committed: a policy that caches across
/// transactions must drop, in `beginBatch`, what it learnt in one that did not commit.
public protocol AppendPolicy {
    /// A new write transaction begins.
    mutating func beginBatch()

    /// Checks `event`, which would become version `streamVersion + 1` of its
    /// stream, against the state that the log and the batch's earlier events
    /// produce; throws to refuse it (the whole transaction is then rolled back).
    ///
    /// - Parameter log: reads inside the write transaction; use it only during this call.
    /// - Returns: what of the event to seal under a person's key, or nil to
    ///   store it as it is.
    mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws -> Sealing?

    /// The state values to write with the batch (nil deletes a key).
    mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)]

    /// The batch's transaction committed.
    mutating func didCommit()
}

/// Reads a policy may make inside the log's write transaction, seeing the
/// batch's earlier events. Valid only during the ``AppendPolicy`` call it is
/// handed to: it must not be stored.
public struct LogView {
    let store: EventStore
    let transaction: UnsafeTransactionReference
    let batchHeads: [String: UInt64]
    let keys: KeyAllocator?

    /// A value of the policy's own state, or nil.
    public func state(_ key: [UInt8]) throws -> [UInt8]? {
        try transaction.get(store.policyState, key: key)
    }

    /// Every value of the policy's own state whose key starts with `prefix`, in key order.
    public func states(prefix: [UInt8]) throws -> [(key: [UInt8], value: [UInt8])] {
        var out: [(key: [UInt8], value: [UInt8])] = []
        try transaction.scan(store.policyState, from: prefix) { key, value in
            guard key.starts(with: prefix) else { return false }
            out.append((Array(key), Array(value)))
            return true
        }
        return out
    }

    /// The stream's version, counting the batch's earlier events.
    public func version(of stream: String) throws -> UInt64 {
        try batchHeads[stream] ?? store.readStreamVersion(transaction, stream)
    }

    /// The stream's events after `version`, in order, including the batch's earlier ones.
    public func events(of stream: String, after version: UInt64) throws -> [RecordedEvent] {
        try store.readStream(transaction, stream, from: version + 1, backwards: false, limit: .max)
    }

    /// A new person key in a new slot, written with the batch. Only during an append.
    public func newPersonKey() throws -> (slot: UInt32, key: SymmetricKey) {
        guard let keys else { throw LogError(.damaged, "person keys are made only while appending") }
        return try keys.allocate(store: store, transaction: transaction)
    }

    /// A new key slot whose key is destroyed once the batch commits (the log
    /// records its erasure with the batch): for a case imported with its
    /// person erased, whose values must stay erased. Only during an append.
    public func newErasedKey() throws -> (slot: UInt32, key: SymmetricKey) {
        guard let keys else { throw LogError(.damaged, "person keys are made only while appending") }
        let made = try keys.allocate(store: store, transaction: transaction)
        keys.toErase.append(made.slot)
        return made
    }

    /// The key in `slot`, or nil when it has been erased.
    public func personKey(_ slot: UInt32) throws -> SymmetricKey? {
        switch try store.personKeys.slot(slot) {
        case .key(let key): return key
        case .erased: return nil
        case .missing: throw LogError(.damaged, "key slot \(slot) is missing from the key file")
        }
    }
}

/// Hands out key slots within one write transaction; the log stores the next
/// free slot in its main database with the batch and syncs the key file before committing.
final class KeyAllocator {
    static let nextKey = Array("keys/next".utf8)
    var next: UInt32?
    /// Keys were written to the key file (it must be synced before the commit).
    var wroteKeys = false
    /// Slots whose keys are to be destroyed once the batch commits.
    var toErase: [UInt32] = []

    /// How many key slots have been handed out (`keys/next`; 0 when none).
    static func keysGiven(_ txn: borrowing some Transaction & ~Copyable, main: Database) throws -> UInt32 {
        guard let stored = try txn.get(main, key: nextKey) else { return 0 }
        guard stored.count == 4 else { throw LogError(.damaged, "the key counter is damaged") }
        return stored.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    func allocate(store: EventStore, transaction: UnsafeTransactionReference) throws -> (slot: UInt32, key: SymmetricKey) {
        let slot: UInt32
        if let next {
            slot = next
        } else {
            slot = try Self.keysGiven(transaction, main: store.main)
        }
        guard slot < UInt32.max else { throw LogError(.damaged, "no key slots left") }
        let (key, written) = try store.personKeys.key(forNew: slot)
        next = slot + 1
        if written { wroteKeys = true }
        return (slot, key)
    }
}

/// Accepts every well-formed envelope; keeps no state.
public struct AcceptAll: AppendPolicy {
    public init() {}
    public mutating func beginBatch() {}
    public mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws -> Sealing? { nil }
    public mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] { [] }
    public mutating func didCommit() {}
}

extension EventStore {
    /// Runs `body` with a ``LogView`` over one read transaction: what a policy
    /// sees, for reading its state outside an append (e.g. an audit comparing
    /// the kept state with a fresh fold).
    public func withLogView<R>(_ body: (LogView) throws -> R) throws -> R {
        try environment.read { txn in
            try body(LogView(store: self, transaction: txn.unsafeReference, batchHeads: [:], keys: nil))
        }
    }
}

extension EventStore {
    /// Changes the policy's own state outside an append, in one write
    /// transaction (so no append runs meanwhile): `body` reads through the view
    /// and returns its result and the changes to write (nil deletes a key).
    /// Used to erase a person: the key is destroyed and the person's entries
    /// removed while no append can hand the key out.
    public func updatePolicyState<R>(_ body: (LogView) throws -> (R, [(key: [UInt8], value: [UInt8]?)])) throws -> R {
        try erasingKey { log in
            let (result, changes) = try body(log)
            return (result, nil, changes)
        }
    }

    /// Like ``updatePolicyState(_:)``, and when `body` names a key slot, erases it:
    /// the erasure is recorded in the log (`erased/<slot>`, kept for good, and
    /// `keyErasing/<slot>` until the key is gone) in the same transaction as the
    /// policy's changes, and the key is destroyed after the commit. So an
    /// erasure is recorded before it is done, and one cut short (killed, disk
    /// full) is finished by the next writer to open the store
    /// (``finishKeyErasures()``); there is never a destroyed key with no record.
    public func erasingKey<R>(_ body: (LogView) throws -> (R, erase: UInt32?, changes: [(key: [UInt8], value: [UInt8]?)])) throws -> R {
        let (result, slot) = try Self.reportingFullDisk { try environment.write { txn -> (R, UInt32?) in
            let (result, slot, changes) = try body(LogView(store: self, transaction: txn.unsafeReference, batchHeads: [:], keys: nil))
            for change in changes {
                if let value = change.value {
                    try txn.put(policyState, key: change.key, value: value)
                } else {
                    try txn.delete(policyState, key: change.key)
                }
            }
            if let slot { try recordErasure(txn, slot: slot) }
            return (result, slot)
        } }
        if slot != nil {
            FaultPoint.reach("erase.afterCommit")
            try finishKeyErasures()
        }
        return result
    }

    /// Records in `txn` that `slot`'s key is erased (for good) and is to be
    /// destroyed (until ``finishKeyErasures()`` has).
    func recordErasure(_ txn: borrowing WriteTransaction, slot: UInt32) throws {
        try txn.put(main, key: Self.erasureKey(slot), value: bigEndianBytes(UInt64(bitPattern: clock().microsecondsSinceEpoch)))
        try txn.put(main, key: Self.pendingErasureKey(slot), value: [UInt8]())
    }

    static let erasurePrefix = Array("erased/".utf8)
    static let pendingErasurePrefix = Array("keyErasing/".utf8)
    static func erasureKey(_ slot: UInt32) -> [UInt8] { erasurePrefix + withUnsafeBytes(of: slot.bigEndian) { Array($0) } }
    static func pendingErasureKey(_ slot: UInt32) -> [UInt8] { pendingErasurePrefix + withUnsafeBytes(of: slot.bigEndian) { Array($0) } }

    /// The slots of `prefix`'s keys in the main database.
    static func slots(_ txn: borrowing some Transaction & ~Copyable, main: Database, prefix: [UInt8]) throws -> [UInt32] {
        var slots: [UInt32] = []
        try txn.scan(main, from: prefix) { key, _ in
            guard key.starts(with: prefix) else { return false }
            guard key.count == prefix.count + 4 else { throw LogError(.damaged, "an erasure record's key is damaged") }
            slots.append(key[prefix.count...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            return true
        }
        return slots
    }

    /// Destroys the keys of erasures recorded but not finished (a process
    /// killed, or a disk full, between the erasure's commit and the key's
    /// overwrite), then clears their marks. Returns the slots finished.
    @discardableResult
    public func finishKeyErasures() throws -> [UInt32] {
        let pending = try environment.read { txn in try Self.slots(txn, main: main, prefix: Self.pendingErasurePrefix) }
        guard !pending.isEmpty else { return [] }
        for slot in pending { try personKeys.erase(slot) }
        try Self.reportingFullDisk { try environment.write { txn in
            for slot in pending { try txn.delete(main, key: Self.pendingErasureKey(slot)) }
        } }
        return pending
    }

    /// The slots whose erasure the log records.
    public func erasedSlots() throws -> Set<UInt32> {
        try environment.read { txn in Set(try Self.slots(txn, main: main, prefix: Self.erasurePrefix)) }
    }
}
