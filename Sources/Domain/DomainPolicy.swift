import BinaryCodable
import Crypto
import EventLog
import Foundation
import JSON

/// The rules of docs/RULES.md in front of every append, inside the log's write
/// transaction, so that rules spanning streams (one open case per person; the
/// coordinator must be registered and active) hold across processes.
///
/// The rules themselves are pure (``Rules``); the policy brings them what they
/// need, from two parts of its own that keep it in the store (the log's
/// `policyState` database): the folded states (``StateCache``: in memory, and
/// as snapshots) and the person index (``PersonIndex``). Erasure is apart too
/// (DomainPolicy+Erasure.swift).
///
/// The policy also chooses what of each event is sealed and under which key
/// (``DomainEvent/sealedFields(of:)``): a case's personal values are sealed
/// under the key of its person, made at the person's first application.
///
/// Within one import the folded states stay in memory from batch to batch, and
/// are trusted only while the stream's version in the log still matches.
public struct DomainPolicy: AppendPolicy {
    /// The date rule 10 compares with.
    public var today: BusinessDate
    /// History migrated from another system: fold, but check no rule.
    public var lenient: Bool
    /// The folded states: in memory, and as snapshots in the store.
    var cache = StateCache()
    /// The person index: whose key seals a case, and the person's cases.
    var index = PersonIndex()

    /// Versions between snapshots (``StateCache/snapshotInterval``).
    public var snapshotInterval: UInt64 {
        get { cache.snapshotInterval }
        set { cache.snapshotInterval = newValue }
    }

    /// The municipality's units (`config.json`), when it lists them: an
    /// application or a coordinator's registration must name one of them.
    public var units: Set<String>?

    /// Checked before the rules with the state of the event's case before it
    /// (nil for a coordinator stream): the service's scope of the caller who
    /// sent the event (a coordinator appends only to the cases where they are
    /// active), seen inside the transaction, so an appointment or release
    /// counts from the moment it commits.
    public var scopeCheck: ((ProposedEvent, CaseState?) throws -> Void)?

    public init(today: BusinessDate, lenient: Bool = false, units: Set<String>? = nil) {
        self.today = today
        self.lenient = lenient
        self.units = units
    }

    /// Refuses a unit that is not one of the municipality's (when it lists them).
    private func checkUnit(_ event: DomainEvent, stream: String) throws {
        guard !lenient, let units else { return }
        let named: String? = switch event {
        case .applicationReceived(let e): e.unit
        case .coordinatorRegistered(let e): e.unit
        default: nil
        }
        guard let unit = named, !units.contains(unit) else { return }
        let hint = Envelope.closest(to: unit, among: units).map { " (did you mean \"\($0)\"?)" } ?? ""
        throw Refusal(.unknownUnit, "\(stream): \"\(unit)\" is not one of the municipality's units\(hint); config.json lists: \(units.sorted().joined(separator: ", "))")
    }


    // MARK: AppendPolicy

    public mutating func beginBatch() {
        cache.beginBatch()
        index.beginBatch()
    }

    public mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws -> Sealing? {
        let decoded = try (event.checked as? DomainEvent)
            ?? DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload, canonical: false).event
        let stream = event.stream
        // Out of the cache while it is changed, so the state has one reference
        // and mutates in place instead of being copied.
        var snapshotVersion: UInt64 = 0
        let taken = try cache.take(stream, at: streamVersion, log: log, snapshotVersion: &snapshotVersion)
        var sealing: Sealing?
        let folded: Folded
        try checkUnit(decoded, stream: stream)
        if let scopeCheck {
            if case .caseState(let state) = taken { try scopeCheck(event, state) } else { try scopeCheck(event, nil) }
        }
        switch consume taken {
        case .caseState(var state):
            if !lenient {
                var inputs = RuleInputs(today: today)
                if case .applicationReceived(let e) = decoded {
                    inputs.personsOpenCase = try openCase(person: e.personId, other: stream, log: log)
                }
                if case .coordinatorAppointed(let e) = decoded {
                    let coordinatorStream = "coordinator-" + e.coordinatorId
                    if case .coordinator(let c) = try cache.load(coordinatorStream, at: try log.version(of: coordinatorStream), log: log) {
                        inputs.appointedCoordinator = c
                    }
                }
                try Rules.check(decoded, type: event.type, occurredOn: event.occurredOn, stream: stream, state: state, inputs: inputs)
            }
            sealing = try self.sealing(event, decoded, state: state, log: log)
            let wasOpen = state.isOpen
            state.apply(decoded, occurredOn: event.occurredOn, personKey: sealing?.slot)
            if wasOpen != state.isOpen, let slot = state.personKey {
                try index.setOpen(state.isOpen, slot: slot, stream: stream, log: log)
            }
            folded = .caseState(consume state)
        case .coordinator(var state):
            if !lenient {
                try Rules.checkCoordinator(decoded, type: event.type, occurredOn: event.occurredOn, stream: stream,
                                           state: state, inputs: RuleInputs(today: today))
            }
            state.apply(decoded)
            folded = .coordinator(consume state)
        }
        cache.put(stream, folded, version: streamVersion + 1, snapshotVersion: snapshotVersion)
        return sealing
    }

    public mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] {
        index.writes() + cache.snapshotWrites()
    }

    public mutating func didCommit() {
        cache.didCommit()
        index.didCommit()
    }
}
