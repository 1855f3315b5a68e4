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
            let slot = views.slot(P.name, start.generation)
            let box = FoldBox(projection)
            box.position = start.position
            try views.environment.read { txn in
                try fold(into: box, from: start.position + 1, through: min(head, start.position + UInt64(batchSize))) { key in
                    try txn.withValue(slot, key: Array(key.utf8)) { try ViewStore.decode(P.Value.self, $0) }
                }
            }
            let changes = box.drain()
            try views.environment.write { txn in
                var checkpoint = try views.checkpoint(txn, P.name)
                guard checkpoint == start else { return }  // another process got here first: read again from its checkpoint
                try ViewStore.write(changes, to: slot, txn)
                checkpoint.position = box.failure.map { $0.position - 1 } ?? box.position
                checkpoint.format = ViewStore.valueFormat
                checkpoint.stoppedAt = box.failure?.position
                checkpoint.reason = box.failure?.reason
                try views.setCheckpoint(txn, P.name, checkpoint)
            }
        }
    }

    /// Folds the log's events `first` through `last` into `box` in log order,
    /// each as the log lends it; `load` reads a key's value that is not in
    /// memory. Stops at the first event the projection cannot handle.
    func fold<P: Projection>(into box: FoldBox<P>, from first: UInt64, through last: UInt64, load: (String) throws -> P.Value?) throws {
        let keys = log.personKeys
        try log.scan(from: first, through: last) { event in
            box.fold(event, decoded: { try DomainEvent.decode(event, keys: keys) }, load: load)
            return box.failure == nil
        }
    }

    /// Regenerates the projection from position 1 into its inactive slot, in
    /// log order, then swaps slots in one transaction (``RebuildSlots``), and
    /// catches up with what was appended meanwhile. Once more than
    /// `valuesInMemory` values are held, they are written to the new slot and
    /// dropped; a key that comes again is read back.
    ///
    /// The three read models of a store are rebuilt together faster, sharing
    /// one pass and one state per case (`ReadModels.rebuild`).
    @discardableResult
    public func rebuild<P: Projection>(_ projection: P, valuesInMemory: Int = 50_000, progress: (UInt64) -> Void = { _ in }) throws -> Checkpoint {
        let head = try log.head().position
        let slots = try RebuildSlots(views, names: [P.name])
        let slot = slots.slot(P.name)
        let box = FoldBox(projection, emptySlot: true)
        func flush() throws { try slots.write([(P.name, box.drain())]) }
        var next: UInt64 = 1
        while next <= head, box.failure == nil {
            let last = min(head, next + UInt64(batchSize) - 1)
            try views.environment.read { txn in
                try fold(into: box, from: next, through: last) { key in
                    try txn.withValue(slot, key: Array(key.utf8)) { try ViewStore.decode(P.Value.self, $0) }
                }
            }
            if box.count > valuesInMemory {
                try flush()
                box.dropValues()
            }
            progress(last)
            next = last + 1
        }
        try flush()
        try slots.finish(P.name, position: head, failure: box.failure)
        return try catchUp(projection)
    }
}
