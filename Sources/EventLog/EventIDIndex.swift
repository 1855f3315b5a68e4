import LMDB

/// The event ids an import has written to the log but not yet to the event id
/// index, with their positions.
///
/// Event ids are random, so in a large log each id lands on an index page of
/// its own: an import batch of 1,000 events dirtied about a thousand pages of
/// the id index at every commit, as many as the log and the stream index
/// together. An import keeps the ids of the batches it commits here instead,
/// and puts them into the index in one transaction (sorted) every
/// ``EventStore/deferredIDLimit`` events and at its end.
///
/// The log stays the truth: the main database's `idsThrough` says through which
/// position the index is complete. Every append reads it; one that is not the
/// import holding these ids (another process, or a later run after a crash)
/// first puts the ids of the events after it into the index, read from the
/// log, so no event id can be written twice. `verify` expects index entries
/// only through `idsThrough`.
struct DeferredEventIDs {
    /// The index holds every event at a position up to this one…
    var through: UInt64
    /// …and `ids` every event after it, up to this one (the log's head when the
    /// import last committed).
    var head: UInt64
    var ids: [EventID: UInt64] = [:]

    init(through: UInt64) {
        self.through = through
        self.head = through
    }
}

extension EventStore {
    static let idsThroughKey = Array("idsThrough".utf8)

    /// Ids an import keeps before putting them into the index: about 20 MB.
    static let deferredIDLimit = 500_000

    /// The position through which the event id index is complete; nil when it
    /// is complete through the head.
    func readIDsThrough(_ txn: borrowing some Transaction & ~Copyable) throws -> UInt64? {
        guard let value = try txn.get(main, key: Self.idsThroughKey) else { return nil }
        guard value.count == 8 else { throw LogError(.damaged, "the event id index's high-water mark is damaged") }
        return value.withUnsafeBytes { readBigEndianUInt64($0) }
    }

    /// Puts the id of every event after `position` into the event id index,
    /// reading them from the log.
    func catchUpEventIDs(_ txn: borrowing WriteTransaction, after position: UInt64) throws {
        var entries: [(id: EventID, position: UInt64)] = []
        try txn.scan(events, from: bigEndianBytes(position + 1)) { key, record in
            guard key.count == 8, let at = readBigEndianUInt64(key), let id = RecordCodec.storedEventID(record) else {
                throw LogError(.damaged, "the event after position \(position) is damaged")
            }
            entries.append((id, at))
            return true
        }
        try putEventIDs(txn, entries)
    }

    /// Puts `entries` into the event id index in key order (each leaf page is
    /// visited once); an id already there is a damaged log.
    func putEventIDs(_ txn: borrowing WriteTransaction, _ entries: [(id: EventID, position: UInt64)]) throws {
        for entry in entries.sorted(by: { $0.id.bytes < $1.id.bytes }) {
            do {
                try txn.put(eventIDs, key: entry.id, value: PositionKey(position: entry.position), flags: .noOverwrite)
            } catch {
                guard error.code == LMDBError.keyExists.code else { throw error }
                throw LogError(.damaged, "event id \(entry.id) is in the log twice (at position \(entry.position) and before); run `iplog verify`")
            }
        }
    }

    /// Puts an import's deferred ids into the event id index and marks it
    /// complete (when another writer has not done so already).
    func flushDeferredIDs(_ deferred: inout DeferredEventIDs?) throws {
        guard let kept = deferred else { return }
        deferred = nil
        try Self.reportingFullDisk { try environment.write { txn in
            let head = try readHead(txn)
            guard let stored = try readIDsThrough(txn), stored < head.position else { return }
            if kept.through == stored && kept.head == head.position {
                try putEventIDs(txn, kept.ids.map { (id: $0.key, position: $0.value) })
            } else {
                try catchUpEventIDs(txn, after: stored)
            }
            _ = try txn.delete(main, key: Self.idsThroughKey)
        } }
    }
}
