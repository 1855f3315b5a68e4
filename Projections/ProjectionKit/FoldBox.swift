import Domain
import EventLog
import Foundation
import LMDB

/// One projection's values while the runner folds events into it: those in
/// memory, the keys changed since they were last written, and where it stands.
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
    /// no value there and is not looked up (in a rebuild most keys are new when
    /// they come). Nil when the slot holds values from before (catch-up): every
    /// key not in memory is looked up.
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
    func fold(_ event: StoredEvent, decoded: () throws -> DomainEvent, load: (String) throws -> P.Value?) {
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
            failure = (event.position, Self.reason(event, error))
            return
        }
        currentKey = key
        currentValue = .some(consume value)
        position = event.position
    }

    /// Why a projection stopped at `event`: its type and stream, and the error
    /// (which names a field, never a value).
    static func reason(_ event: StoredEvent, _ error: any Error) -> String {
        "\(String(decoding: event.typeBytes, as: UTF8.self)) in \(event.stream): \(error)"
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
