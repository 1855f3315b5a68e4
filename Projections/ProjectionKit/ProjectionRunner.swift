import Domain
import EventLog
import Foundation
import BinaryCodable
import LMDB

/// Brings projections up to the log and rebuilds them: all their I/O.
///
/// Catch-up reads the log after a projection's checkpoint in batches; each batch's
/// changed values are written with the new checkpoint in one transaction of the
/// view store, after checking that no other process moved the checkpoint
/// meanwhile (if one did, the batch is dropped and read again from the new
/// checkpoint). An event a projection cannot handle stops that projection at
/// its position, with the reason in its checkpoint; it is not retried until a
/// rebuild, so a bad event costs no busy loop and holds back no other projection.
public struct ProjectionRunner: Sendable {
    public let log: EventStore
    public let views: ViewStore
    public var batchSize = 20_000

    public init(log: EventStore, views: ViewStore) {
        self.log = log
        self.views = views
    }

    /// Folds the events after the projection's checkpoint up to the log's head
    /// as of the call. Returns the checkpoint reached.
    @discardableResult
    public func catchUp<P: Projection>(_ projection: P) throws -> Checkpoint {
        let head = try log.head().position
        let current = try views.checkpoint(P.name)
        if current.position > 0, current.format != ViewStore.valueFormat, current.stoppedAt == nil {
            return try rebuild(projection)  // written by an older version: regenerate
        }
        while true {
            let start = try views.checkpoint(P.name)
            if start.stoppedAt != nil || start.position >= head { return start }
            let events = try log.read(from: start.position + 1, limit: batchSize)
            var values: [String: P.Value?] = [:]
            var touched: Set<String> = []
            let folded = try views.environment.read { txn in
                try fold(projection, events, into: &values, touched: &touched) { key in
                    try txn.withValue(views.slot(P.name, start.generation), key: Array(key.utf8)) { try ViewStore.decode(P.Value.self, $0) }
                }
            }
            let moved = try views.environment.write { txn -> Bool in
                var checkpoint = try views.checkpoint(txn, P.name)
                guard checkpoint == start else { return true }  // another process got here first
                try write(values, to: views.slot(P.name, checkpoint.generation), txn)
                checkpoint.position = folded.position
                checkpoint.format = ViewStore.valueFormat
                if let failure = folded.failure {
                    checkpoint.stoppedAt = failure.position
                    checkpoint.reason = failure.reason
                }
                try views.setCheckpoint(txn, P.name, checkpoint)
                return false
            }
            _ = moved
        }
    }

    /// Regenerates the projection from position 1 into its inactive slot, then
    /// swaps slots in one transaction, so a reader sees either the old view or the
    /// complete new one, never a half-built one. Events appended while it runs
    /// are folded before the swap or by the next catch-up.
    ///
    /// - Parameter progress: called after each batch with the position reached.
    @discardableResult
    public func rebuild<P: Projection>(_ projection: P, progress: (UInt64) -> Void = { _ in }) throws -> Checkpoint {
        let active = try views.checkpoint(P.name)
        let generation = active.generation + 1
        let slot = views.slot(P.name, generation)
        try views.environment.write { txn in try txn.empty(slot) }
        // Values stay in memory across batches (the slot is this rebuild's own):
        // memory grows with keys (cases), not with events.
        var values: [String: P.Value?] = [:]
        var dirty: Set<String> = []
        var position: UInt64 = 0
        var failure: (position: UInt64, reason: String)?
        func flush() throws {
            guard !dirty.isEmpty else { return }
            try views.environment.write { txn in try write(dirty.reduce(into: [:]) { $0[$1] = values[$1] }, to: slot, txn) }
            dirty = []
        }
        while failure == nil {
            let events = try log.read(from: position + 1, limit: batchSize)
            if events.isEmpty { break }
            let folded = try fold(projection, events, into: &values, touched: &dirty) { _ in nil }
            position = folded.position
            failure = folded.failure
            if dirty.count >= 50_000 { try flush() }
            progress(position)
            if events.count < batchSize { break }
        }
        try flush()
        var checkpoint = Checkpoint()
        checkpoint.position = position
        checkpoint.generation = generation
        checkpoint.format = ViewStore.valueFormat
        if let failure {
            checkpoint.stoppedAt = failure.position
            checkpoint.reason = failure.reason
        }
        try views.environment.write { txn in
            try views.setCheckpoint(txn, P.name, checkpoint)
            try txn.empty(views.slot(P.name, active.generation))
        }
        return try catchUp(projection)
    }

    /// Folds `events` into `values`, loading a key's value with `load` the first
    /// time the key is met, and notes the keys it changed in `touched`. Stops at
    /// the first event the projection cannot handle.
    private func fold<P: Projection>(
        _ projection: P, _ events: [RecordedEvent], into values: inout [String: P.Value?], touched: inout Set<String>,
        load: (String) throws -> P.Value?
    ) throws -> (position: UInt64, failure: (position: UInt64, reason: String)?) {
        var position = events.first.map { $0.position - 1 } ?? 0
        for event in events {
            guard let key = projection.key(for: event) else {
                position = event.position
                continue
            }
            // Taken out of the cache while it is folded, so it has one reference
            // and mutates in place.
            var value: P.Value?
            if let cached = values.removeValue(forKey: key) {
                value = cached
            } else {
                value = try load(key)
            }
            do {
                try projection.apply(event, decoded: try decodeEvent(event), to: &value)
            } catch {
                values[key] = value  // what the key held before this event: the batch up to it is still written
                return (position, (event.position, "\(event.type) in \(event.stream): \(error)"))
            }
            values[key] = value
            touched.insert(key)
            position = event.position
        }
        return (position, nil)
    }

    private func write<V: Encodable>(_ values: [String: V?], to slot: Database, _ txn: borrowing WriteTransaction) throws {
        for (key, value) in values {
            if let value {
                try txn.put(slot, key: Array(key.utf8), value: try ViewStore.encode(value))
            } else {
                try txn.delete(slot, key: Array(key.utf8))
            }
        }
    }
}
