import Domain
import EventLog
import Foundation
import LMDB

/// One projection's part of a shared pass over the log: its values in memory,
/// the keys changed since they were last written, and where it stands.
///
/// The value of the key last folded is held apart from the dictionary (a
/// stream's events come one after the other), so consecutive events of one key
/// cost no hashing.
final class FoldBox<P: Projection> {
    let projection: P
    private var values: [String: P.Value?] = [:]
    private var dirty: Set<String> = []
    /// For a slot that was empty when the box began (a rebuild's): the hashes
    /// of the keys written to it since. A key whose hash is not among them has
    /// no value there and is not looked up (in a rebuild stream by stream, most
    /// keys are new when they come). Nil when the slot holds values from before
    /// (catch-up): every key not in memory is looked up.
    private var written: Set<Int>?
    /// The key last folded and its value: changed, and not in `values`. Two
    /// properties, not an optional tuple: this code runs unspecialized (the
    /// projections arrive as existentials), and a tuple of a generic type has
    /// its metadata looked up on every use.
    private var currentKey: String?
    private var currentValue: P.Value??
    var position: UInt64 = 0
    var failure: (position: UInt64, reason: String)?

    /// - Parameter emptySlot: the slot the values are read back from was
    ///   empty when the box began.
    init(_ projection: P, emptySlot: Bool = false) {
        self.projection = projection
        written = emptySlot ? [] : nil
    }

    /// Values held in memory.
    var count: Int { values.count + (currentKey == nil ? 0 : 1) }

    /// Puts the held value back with the others.
    private func settle() {
        guard let key = currentKey else { return }
        values[key] = currentValue.take()!
        currentKey = nil
        dirty.insert(key)
    }

    /// Folds one event; `decoded` decodes it (called only when the projection
    /// has a key for it), `load` reads a key's value from the slot being built
    /// when it is not in memory.
    func fold(_ event: RecordedEvent, decoded: () throws -> DomainEvent, load: (String) throws -> P.Value?) {
        guard failure == nil else { return }
        guard let key = projection.key(for: event) else {
            position = event.position
            return
        }
        // Moved out while folded (never copied: a copy retains every array and
        // string of the value), so it has one reference and mutates in place.
        var value: P.Value?
        let wasCurrent = currentKey == key
        do {
            if wasCurrent {
                value = currentValue.take()!
                currentKey = nil
            } else {
                settle()
                if let cached = values.removeValue(forKey: key) {
                    value = cached
                } else {
                    let mayBeStored = written?.contains(key.hashValue) ?? true
                    value = mayBeStored ? try load(key) : nil
                }
            }
            try projection.apply(event, decoded: try decoded(), to: &value)
        } catch {
            // Kept as it was; changed (to be written) only if it had changed before.
            values[key] = consume value
            if wasCurrent { dirty.insert(key) }
            failure = (event.position, "\(event.type) in \(event.stream): \(error)")
            return
        }
        currentKey = key
        currentValue = .some(consume value)
        position = event.position
    }

    /// Forgets every value held in memory (after they were written): the next
    /// event of a key reads it back from the slot.
    func dropValues() {
        precondition(dirty.isEmpty && currentKey == nil, "drain before dropping")
        values = [:]
    }

    /// The changed values, encoded, and forgets that they changed.
    func drain() -> [(key: String, bytes: [UInt8]?)] {
        settle()
        defer { dirty = [] }
        return dirty.map { key in
            written?.insert(key.hashValue)
            return (key, values[key].flatMap { $0 }.map { ViewStore.encode($0) })
        }
    }
}

/// An event read for a rebuild and its typed form, decoded once for every box.
typealias DecodedEvent = (event: RecordedEvent, decoded: Result<DomainEvent, any Error>)

/// A type-erased ``FoldBox``, so boxes of different projections share a pass.
struct AnyFoldBox {
    let name: String
    /// Folds an event; the reference reads the slot being built.
    let fold: (RecordedEvent, Result<DomainEvent, any Error>, UnsafeTransactionReference, Database) -> Void
    let drain: () -> [(key: String, bytes: [UInt8]?)]
    let dropValues: () -> Void
    let valueCount: () -> Int
    let state: () -> (position: UInt64, failure: (position: UInt64, reason: String)?)

    init<P: Projection>(_ projection: P) {
        let box = FoldBox(projection, emptySlot: true)  // a rebuild empties its slot first
        name = P.name
        fold = { event, decoded, txn, slot in
            box.fold(event, decoded: { try decoded.get() }) { key in
                try txn.withValue(slot, key: Array(key.utf8)) { try ViewStore.decode(P.Value.self, $0) }
            }
        }
        drain = { box.drain() }
        dropValues = { box.dropValues() }
        valueCount = { box.count }
        state = { (box.position, box.failure) }
    }
}

extension ProjectionRunner {
    /// Rebuilds several projections in one pass over the log: each event is read
    /// and decoded once. Each projection is regenerated into its inactive slot and
    /// swapped in as ``rebuild(_:progress:)`` does, then caught up.
    ///
    /// The pass goes stream by stream (each stream's events in order, up to the
    /// log's head when it began), a few hundred streams a read transaction, not
    /// in log order: a value keyed by a stream is then finished when its stream
    /// is, so memory grows with `valuesInMemory`, not with the cases (the
    /// interleaved log order kept every case's value alive to the end). Once a
    /// projection holds more than `valuesInMemory` values, they are written to
    /// the new slot and dropped; a key that comes up again (a coordinator's
    /// workload) is read back. Read models must therefore not depend on the
    /// order of events across streams (``Projection``). A projection that fails
    /// on an event is rebuilt again in log order, so that it stops exactly there.
    public func rebuild(_ projections: [any Projection], valuesInMemory: Int = 5_000, progress: (UInt64) -> Void = { _ in }) throws -> [String: Checkpoint] {
        let head = try log.head().position
        var boxes = projections.map { AnyFoldBox($0) }
        var generations: [String: UInt64] = [:]
        for box in boxes {
            let active = try views.checkpoint(box.name)
            generations[box.name] = active.generation + 1
            try views.environment.write { txn in try txn.empty(views.slot(box.name, active.generation + 1)) }
        }
        let slots = { (box: AnyFoldBox) in views.slot(box.name, generations[box.name]!) }
        try foldByStream(boxes, through: head, slot: slots, valuesInMemory: valuesInMemory, progress: progress)
        let failed = boxes.indices.filter { boxes[$0].state().failure != nil }
        if !failed.isEmpty {
            for i in failed {
                boxes[i] = AnyFoldBox(projections[i])
                try views.environment.write { txn in try txn.empty(slots(boxes[i])) }
            }
            try foldInLogOrder(failed.map { boxes[$0] }, through: head, slot: slots, valuesInMemory: valuesInMemory)
        }
        var results: [String: Checkpoint] = [:]
        for (box, projection) in zip(boxes, projections) {
            let failure = box.state().failure
            let old = try views.checkpoint(box.name)
            var checkpoint = Checkpoint()
            checkpoint.position = failure.map { $0.position - 1 } ?? head
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

    /// Writes a box's changed values to its new slot.
    private func flush(_ box: AnyFoldBox, to slot: Database) throws {
        let changes = box.drain()
        guard !changes.isEmpty else { return }
        try views.environment.write { txn in try ViewStore.write(changes, to: slot, txn) }
    }

    /// Folds `events` into every box; values not in memory are read back from
    /// the slot being built. Then a box holding more than `valuesInMemory`
    /// values writes them out and forgets them.
    private func fold(_ events: [DecodedEvent], into boxes: [AnyFoldBox], slot: (AnyFoldBox) -> Database,
                      valuesInMemory: Int) throws {
        let slots = boxes.map(slot)  // looked up once, not for every event
        try views.environment.read { txn in
            let reference = txn.unsafeReference
            for (event, decoded) in events {
                for (box, slot) in zip(boxes, slots) { box.fold(event, decoded, reference, slot) }
            }
        }
        for box in boxes where box.valueCount() > valuesInMemory {
            try flush(box, to: slot(box))
            box.dropValues()
        }
    }

    /// Reads and decodes `events` on the calling thread: each decoded once for
    /// every box (each case and coordinator event is folded by the case status);
    /// a failure to decode is each box's to report.
    private static func decoded(_ events: some Sequence<RecordedEvent>, keys: PersonKeys) -> [DecodedEvent] {
        events.map { event in (event, Result { try decodeEvent(event, keys: keys) }) }
    }

    /// The pass stream by stream. The streams are read from the log and decoded
    /// on a second thread (``ReadAhead``), a chunk of them ahead, while this one
    /// folds the chunk before into the boxes and writes their values: reading
    /// and decoding are about half of a rebuild, and the machine has two cores.
    private func foldByStream(_ boxes: [AnyFoldBox], through head: UInt64, slot: (AnyFoldBox) -> Database,
                              valuesInMemory: Int, progress: (UInt64) -> Void) throws {
        let streams = try log.streams().map(\.stream)
        let chunks = stride(from: 0, to: streams.count, by: 64).map { Array(streams[$0..<min($0 + 64, streams.count)]) }
        let log = self.log
        let ahead = ReadAhead(chunks, batch: 1, batchesAhead: 4) { chunk in
            Result { Self.decoded(try log.read(streams: chunk, through: head).joined(), keys: log.personKeys) }
        }
        var folded: UInt64 = 0
        for chunk in ahead {
            let events = try chunk.get()
            try fold(events, into: boxes, slot: slot, valuesInMemory: valuesInMemory)
            folded += UInt64(events.count)
            progress(folded)
        }
        for box in boxes { try flush(box, to: slot(box)) }
    }

    private func foldInLogOrder(_ boxes: [AnyFoldBox], through head: UInt64, slot: (AnyFoldBox) -> Database, valuesInMemory: Int) throws {
        var next: UInt64 = 1
        while next <= head {
            let events = try log.read(from: next, limit: batchSize).filter { $0.position <= head }
            try fold(Self.decoded(events, keys: log.personKeys), into: boxes, slot: slot, valuesInMemory: valuesInMemory)
            guard let last = events.last, events.count == batchSize else { break }
            next = last.position + 1
        }
        for box in boxes { try flush(box, to: slot(box)) }
    }
}
