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
            let slot = views.slot(P.name, start.generation)
            let box = FoldBox(projection)
            box.position = start.position
            try views.environment.read { txn in
                for event in events {
                    box.fold(event, decoded: { try decodeEvent(event, keys: log.personKeys) }) { key in
                        try txn.withValue(slot, key: Array(key.utf8)) { try ViewStore.decode(P.Value.self, $0) }
                    }
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

    /// Regenerates the projection from position 1 into its inactive slot, then
    /// swaps slots in one transaction, so a reader sees either the old view or the
    /// complete new one, never a half-built one; see ``rebuild(_:valuesInMemory:progress:)``.
    @discardableResult
    public func rebuild<P: Projection>(_ projection: P, progress: (UInt64) -> Void = { _ in }) throws -> Checkpoint {
        try rebuild([projection], progress: progress)[P.name]!
    }
}
