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
    mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws

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
    let batchHeads: [String: EventStore.StreamHead]

    /// A value of the policy's own state, or nil.
    public func state(_ key: [UInt8]) throws -> [UInt8]? {
        try transaction.get(store.policyState, key: key)
    }

    /// The stream's version, counting the batch's earlier events.
    public func version(of stream: String) throws -> UInt64 {
        try batchHeads[stream]?.version ?? store.readStreamHead(transaction, stream)?.version ?? 0
    }

    /// The stream's events after `version`, in order, including the batch's earlier ones.
    public func events(of stream: String, after version: UInt64) throws -> [RecordedEvent] {
        try store.readStream(transaction, stream, from: version + 1, backwards: false, limit: .max)
    }
}

/// Accepts every well-formed envelope; keeps no state.
public struct AcceptAll: AppendPolicy {
    public init() {}
    public mutating func beginBatch() {}
    public mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws {}
    public mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] { [] }
    public mutating func didCommit() {}
}

extension EventStore {
    /// Runs `body` with a ``LogView`` over one read transaction: what a policy
    /// sees, for reading its state outside an append (e.g. an audit comparing
    /// the kept state with a fresh fold).
    public func withLogView<R>(_ body: (LogView) throws -> R) throws -> R {
        try environment.read { txn in
            try body(LogView(store: self, transaction: txn.unsafeReference, batchHeads: [:]))
        }
    }
}
