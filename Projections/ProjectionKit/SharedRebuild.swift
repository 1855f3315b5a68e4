import Domain
import EventLog
import Foundation
import LMDB

/// One projection's part of a shared pass over the log: its values in memory,
/// the keys changed since they were last written, and where it stands.
final class FoldBox<P: Projection> {
    let projection: P
    var values: [String: P.Value?] = [:]
    var dirty: Set<String> = []
    var position: UInt64 = 0
    var failure: (position: UInt64, reason: String)?

    init(_ projection: P) { self.projection = projection }

    /// Folds one event; `decoded` decodes it (once, shared by every box), `load`
    /// reads a key's value from the slot being built when it is not in memory.
    func fold(_ event: RecordedEvent, decoded: () throws -> DomainEvent, load: (String) throws -> P.Value?) {
        guard failure == nil else { return }
        guard let key = projection.key(for: event) else {
            position = event.position
            return
        }
        // Taken out while folded, so it has one reference and mutates in place.
        var value: P.Value?
        do {
            if let cached = values.removeValue(forKey: key) { value = cached } else { value = try load(key) }
            try projection.apply(event, decoded: try decoded(), to: &value)
        } catch {
            values[key] = value
            failure = (event.position, "\(event.type) in \(event.stream): \(error)")
            return
        }
        values[key] = value
        dirty.insert(key)
        position = event.position
    }

    /// Forgets every value held in memory (after they were written): the next
    /// event of a key reads it back from the slot.
    func dropValues() {
        precondition(dirty.isEmpty, "drain before dropping")
        values = [:]
    }

    /// The changed values, encoded, and forgets that they changed.
    func drain() throws -> [(key: String, bytes: [UInt8]?)] {
        defer { dirty = [] }
        return try dirty.map { key in (key, try values[key].flatMap { $0 }.map { try ViewStore.encode($0) }) }
    }
}

/// A type-erased ``FoldBox``, so boxes of different projections share a pass.
struct AnyFoldBox {
    let name: String
    /// Folds an event; the reference reads the slot being built.
    let fold: (RecordedEvent, () throws -> DomainEvent, UnsafeTransactionReference, Database) -> Void
    let drain: () throws -> [(key: String, bytes: [UInt8]?)]
    let dropValues: () -> Void
    let valueCount: () -> Int
    let state: () -> (position: UInt64, failure: (position: UInt64, reason: String)?)

    init<P: Projection>(_ projection: P) {
        let box = FoldBox(projection)
        name = P.name
        fold = { event, decoded, txn, slot in
            box.fold(event, decoded: decoded) { key in
                try txn.withValue(slot, key: Array(key.utf8)) { try ViewStore.decode(P.Value.self, $0) }
            }
        }
        drain = { try box.drain() }
        dropValues = { box.dropValues() }
        valueCount = { box.values.count }
        state = { (box.position, box.failure) }
    }
}

extension ProjectionRunner {
    /// Rebuilds several projections in one pass over the log: each event is read
    /// and decoded once. Each projection is regenerated into its inactive slot and
    /// swapped in as ``rebuild(_:progress:)`` does, then caught up.
    ///
    /// Memory is bounded: once a projection holds more than `valuesInMemory` keys,
    /// its changed values are written to the new slot and dropped from memory, to
    /// be read back when their keys come up again. Keys of an interleaved log
    /// come up again soon, so a small bound costs a great deal of reading back
    /// (25,000 cases with a bound of 4,000: 31 s became 14 min); the default
    /// holds 200,000 cases.
    public func rebuild(_ projections: [any Projection], valuesInMemory: Int = 200_000, progress: (UInt64) -> Void = { _ in }) throws -> [String: Checkpoint] {
        let boxes = projections.map { AnyFoldBox($0) }
        var generations: [String: UInt64] = [:]
        for box in boxes {
            let active = try views.checkpoint(box.name)
            generations[box.name] = active.generation + 1
            try views.environment.write { txn in try txn.empty(views.slot(box.name, active.generation + 1)) }
        }
        func flush(_ box: AnyFoldBox) throws {
            let changes = try box.drain()
            guard !changes.isEmpty else { return }
            try views.environment.write { txn in try ViewStore.write(changes, to: views.slot(box.name, generations[box.name]!), txn) }
        }
        var next: UInt64 = 1
        while true {
            let events = try log.read(from: next, limit: batchSize)
            // Short read transactions (a page of the log at a time) on the views, to read back dropped values.
            for page in stride(from: 0, to: events.count, by: 1_000) {
                try views.environment.read { txn in
                    let reference = txn.unsafeReference
                    for event in events[page..<min(page + 1_000, events.count)] {
                        var decoded: DomainEvent?
                        let decode = { () throws -> DomainEvent in
                            if let decoded { return decoded }
                            let d = try decodeEvent(event, keys: log.personKeys)
                            decoded = d
                            return d
                        }
                        for box in boxes { box.fold(event, decode, reference, views.slot(box.name, generations[box.name]!)) }
                    }
                }
                for box in boxes where box.valueCount() > valuesInMemory {
                    try flush(box)
                    box.dropValues()
                }
            }
            guard let last = events.last else { break }
            next = last.position + 1
            progress(last.position)
            if events.count < batchSize { break }
        }
        var results: [String: Checkpoint] = [:]
        for (box, projection) in zip(boxes, projections) {
            try flush(box)
            let (position, failure) = box.state()
            let old = try views.checkpoint(box.name)
            var checkpoint = Checkpoint()
            checkpoint.position = failure.map { $0.position - 1 } ?? max(position, next - 1)
            checkpoint.generation = generations[box.name]!
            checkpoint.format = ViewStore.valueFormat
            checkpoint.stoppedAt = failure?.position
            checkpoint.reason = failure?.reason
            try views.environment.write { txn in
                try views.setCheckpoint(txn, box.name, checkpoint)
                try txn.empty(views.slot(box.name, old.generation))
            }
            results[box.name] = try catchUp(projection)
        }
        return results
    }

}
