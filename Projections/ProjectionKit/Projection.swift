import BinaryCodable
import Domain
import EventLog

/// A read model: a pure fold of recorded events into values under keys.
///
/// The runner (``ProjectionRunner``) does all I/O: it reads the log from the
/// projection's checkpoint in log order, hands each event, lent where the log
/// holds it (``StoredEvent``), to ``key(for:)`` and ``apply(_:decoded:to:)``,
/// and writes the changed values with the new checkpoint in one transaction.
/// A rebuild is the same fold from position 1 into an empty slot.
public protocol Projection: Sendable {
    /// Stored in its compact form (``CompactCodable``).
    associatedtype Value: CompactCodable & Sendable

    /// The projection's name (`caseStatus`, `deviations`, `coordinatorWorkload`).
    static var name: String { get }

    /// The key whose value `event` changes, or nil when the projection ignores it.
    func key(for event: StoredEvent) -> String?

    /// Folds one event into its key's value (nil before the key's first event).
    /// Pure: no I/O. Throws when the event cannot be handled; the runner then
    /// stops this projection at that event and reports why.
    func apply(_ event: StoredEvent, decoded: DomainEvent, to value: inout Value?) throws
}

extension Projection {
    public var name: String { Self.name }
}

/// Decodes an event's payload into the catalogue's typed event, as the
/// projections see it: personal values sealed, but an application's person id
/// opened with `keys` (the deviation report needs the birth date in it).
public func decodeEvent(_ event: RecordedEvent, keys: PersonKeys?) throws -> DomainEvent {
    try DomainEvent.decode(event, keys: keys)
}

/// ``decodeEvent(_:keys:)`` of an event lent by the log.
public func decodeEvent(_ event: StoredEvent, keys: PersonKeys?) throws -> DomainEvent {
    try DomainEvent.decode(event, keys: keys)
}
