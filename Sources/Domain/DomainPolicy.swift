import BinaryCodable
import Crypto
import EventLog
import Foundation
import JSON

/// The rules of docs/RULES.md in front of every append, inside the log's write
/// transaction, so that rules spanning streams (one open case per person; the
/// coordinator must be registered and active) hold across processes.
///
/// What the rules need is kept in the store (the log's `policyState` database):
///
/// - `snap/<stream>`: a snapshot of the stream's folded state, written every
///   ``snapshotInterval`` versions. A stream's state is its snapshot plus the few
///   events after it, read by version from the stream index: an append never
///   replays a whole stream, and a snapshot of another format is simply refolded.
/// - `person/<HMAC(person id)>`: the slot of the person's key (``PersonKeys``),
///   under a keyed hash, so the person id is not stored in the clear.
/// - `open/<slot>`: the person's open cases (rule 2); `cases/<slot>`: all of
///   the person's cases (what an erasure names).
/// - `secret/personIndex`: the store's random key for that hash.
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
    /// Versions between snapshots: an append replays at most this many events of
    /// its stream (a few hundred microseconds), and an import writes a snapshot
    /// for one event in this many.
    public var snapshotInterval: UInt64 = 64

    enum Folded {
        case caseState(CaseState)
        case coordinator(CoordinatorState)
    }

    /// A folded state's version, and the version of its last snapshot.
    struct Versions {
        var version: UInt64
        var snapshotVersion: UInt64
    }

    /// A state as folded from its snapshot and events.
    struct Entry {
        var folded: Folded
        var versions: Versions
        var version: UInt64 { versions.version }
    }

    /// Folded states by stream, each valid at its version in `versions`. Kept
    /// apart from the versions so that an append moves a state out and back
    /// without copying it (a copy retains each of its arrays and strings, a
    /// cache miss apiece across 25,000 cases) and a commit reads the versions
    /// without touching the states.
    var states: [String: Folded] = [:]
    var versions: [String: Versions] = [:]
    /// Streams whose state the current batch changed: until it commits, their
    /// states reflect events that may be rolled back (``beginBatch()`` drops them).
    var touched: Set<String> = []
    /// Person index entries worked out in this batch (an application needs its
    /// person's up to three times; the HMAC is most of an append's checks).
    var personEntries: [String: String] = [:]
    /// Person-index values changed in this batch (nil: deleted).
    var pendingIndex: [String: [UInt8]?] = [:]
    var secret: [UInt8]?
    var newSecret = false

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

    static let secretKey = Array("secret/personIndex".utf8)
    static func snapshotKey(_ stream: String) -> [UInt8] { Array(("snap/" + stream).utf8) }

    // MARK: AppendPolicy

    public mutating func beginBatch() {
        for stream in touched { states[stream] = nil; versions[stream] = nil }  // a batch that did not commit
        touched.removeAll(keepingCapacity: true)
        personEntries.removeAll(keepingCapacity: true)
        pendingIndex = [:]
        if newSecret { secret = nil }
        newSecret = false
        if states.count > 200_000 { states = [:]; versions = [:] }  // bounded memory on huge imports
    }

    public mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws -> Sealing? {
        let decoded = try (event.checked as? DomainEvent)
            ?? DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload, canonical: false).event
        let stream = event.stream
        // Out of the cache while it is changed, so the state has one reference
        // and mutates in place instead of being copied.
        var snapshotVersion: UInt64 = 0
        let taken = try take(stream, at: streamVersion, log: log, snapshotVersion: &snapshotVersion)
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
                    if case .coordinator(let c) = try load(coordinatorStream, at: try log.version(of: coordinatorStream), log: log) {
                        inputs.appointedCoordinator = c
                    }
                }
                try Rules.check(decoded, type: event.type, occurredOn: event.occurredOn, stream: stream, state: state, inputs: inputs)
            }
            sealing = try self.sealing(event, decoded, state: state, log: log)
            let wasOpen = state.isOpen
            state.apply(decoded, occurredOn: event.occurredOn, personKey: sealing?.slot)
            if wasOpen != state.isOpen, let slot = state.personKey {
                try setOpen(state.isOpen, slot: slot, stream: stream, log: log)
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
        states[stream] = consume folded
        versions[stream] = Versions(version: streamVersion + 1, snapshotVersion: snapshotVersion)
        touched.insert(stream)
        return sealing
    }

    public mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] {
        var writes: [(key: [UInt8], value: [UInt8]?)] = []
        if newSecret, let secret { writes.append((Self.secretKey, secret)) }
        for stream in touched {
            guard let kept = versions[stream], kept.version - kept.snapshotVersion >= snapshotInterval,
                  let state = states[stream] else { continue }
            if let bytes = try? Self.encodeSnapshot(state, version: kept.version) {
                writes.append((Self.snapshotKey(stream), bytes))
                versions[stream]?.snapshotVersion = kept.version
            }
        }
        for (key, value) in pendingIndex {
            writes.append((Array(key.utf8), value))
        }
        return writes
    }

    public mutating func didCommit() {
        touched.removeAll(keepingCapacity: true)
        personEntries.removeAll(keepingCapacity: true)
        pendingIndex = [:]
        newSecret = false
    }
}
