import BinaryCodable
import EventLog
import LMDB

/// The new generation of one or more read models while a rebuild writes it:
/// each read model's inactive slot, emptied when the rebuild begins, written as
/// the fold goes, and swapped in by ``finish(_:position:failure:)`` in one
/// transaction with its checkpoint, so that a reader sees the old read model or
/// the complete new one, never a half-built one.
public struct RebuildSlots: Sendable {
    let views: ViewStore
    /// Each read model's new generation.
    let generations: [String: UInt64]

    /// Empties the inactive slot of each of `names`.
    public init(_ views: ViewStore, names: [String]) throws {
        self.views = views
        var generations: [String: UInt64] = [:]
        for name in names { generations[name] = try views.checkpoint(name).generation + 1 }
        self.generations = generations
        try views.environment.write { txn in
            for (name, generation) in generations { try txn.empty(views.slot(name, generation)) }
        }
    }

    func slot(_ name: String) -> Database { views.slot(name, generations[name]!) }

    /// Writes encoded values (nil deletes the key) into the new slots, all in one transaction.
    public func write(_ changes: [(name: String, changes: [(key: String, bytes: [UInt8]?)])]) throws {
        guard changes.contains(where: { !$0.changes.isEmpty }) else { return }
        try views.environment.write { txn in
            for (name, values) in changes { try ViewStore.write(values, to: slot(name), txn) }
        }
    }

    /// Writes values whose keys come in ascending order, each greater than
    /// every key in the slot so far (`MDB_APPEND`: no search, full pages), in one transaction.
    public func append(_ changes: [(name: String, changes: [(key: String, bytes: [UInt8])])]) throws {
        guard changes.contains(where: { !$0.changes.isEmpty }) else { return }
        try views.environment.write { txn in
            for (name, values) in changes {
                let slot = slot(name)
                for (key, bytes) in values { try txn.put(slot, key: Array(key.utf8), value: bytes, flags: .append) }
            }
        }
    }

    /// Runs `body`, whose writes to the new slots are not synced one commit at
    /// a time but once at the end: nothing points at a new slot before
    /// ``finish(_:position:failure:)``, whose commit is synced.
    public func writingUnsynced<R>(_ body: () throws -> R) throws -> R {
        try views.environment.withoutSyncing(body)
    }

    /// Swaps `name`'s new slot in: its checkpoint says it holds the log up to
    /// `position`, or up to the event before `failure`'s, where it stopped. The
    /// old slot is emptied in the same transaction.
    @discardableResult
    public func finish(_ name: String, position: UInt64, failure: (position: UInt64, reason: String)?) throws -> Checkpoint {
        var checkpoint = Checkpoint()
        checkpoint.position = failure.map { $0.position - 1 } ?? position
        checkpoint.generation = generations[name]!
        checkpoint.format = ViewStore.valueFormat
        checkpoint.stoppedAt = failure?.position
        checkpoint.reason = failure?.reason
        try views.environment.write { txn in
            let old = try views.checkpoint(txn, name)
            try views.setCheckpoint(txn, name, checkpoint)
            try txn.empty(views.slot(name, old.generation))
        }
        return checkpoint
    }
}
