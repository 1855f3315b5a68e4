/// What an append checks beyond the log's own rules (positions, versions, ids):
/// the domain's rules. The log calls it inside its write transaction, so what it
/// checks and what it keeps is consistent with the events it is checked against,
/// across processes.
///
/// The policy keeps its own state in the store as opaque key-value pairs (the
/// `policyState` database): it reads them through `lookup`, keeps what it changes,
/// and hands the changes back in ``endBatch()``, which the log writes in the same
/// transaction as the events. The log calls ``beginBatch()`` at the start of every
/// write transaction, including when one is retried after the map grew, so a
/// policy must forget in it whatever it cached from an earlier attempt.
public protocol AppendPolicy {
    /// A new write transaction begins: drop anything cached.
    mutating func beginBatch()

    /// Checks `event`, which would become version `streamVersion + 1` of its
    /// stream, against the state that the log and the batch's earlier events
    /// produce; throws to refuse it (the whole transaction is then rolled back).
    ///
    /// - Parameter lookup: reads a state value from the store; use it only during
    ///   this call.
    mutating func admit(
        _ event: ProposedEvent, streamVersion: UInt64,
        lookup: (_ key: [UInt8]) throws -> [UInt8]?
    ) throws

    /// The state values to write with the batch (nil deletes a key).
    mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)]
}

/// Accepts every well-formed envelope; keeps no state.
public struct AcceptAll: AppendPolicy {
    public init() {}
    public mutating func beginBatch() {}
    public mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, lookup: (_ key: [UInt8]) throws -> [UInt8]?) throws {}
    public mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] { [] }
}
