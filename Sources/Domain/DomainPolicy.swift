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
    private var states: [String: Folded] = [:]
    private var versions: [String: Versions] = [:]
    /// Streams whose state the current batch changed: until it commits, their
    /// states reflect events that may be rolled back (``beginBatch()`` drops them).
    private var touched: Set<String> = []
    /// Person index entries worked out in this batch (an application needs its
    /// person's up to three times; the HMAC is most of an append's checks).
    private var personEntries: [String: String] = [:]
    /// Person-index values changed in this batch (nil: deleted).
    private var pendingIndex: [String: [UInt8]?] = [:]
    private var secret: [UInt8]?
    private var newSecret = false

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

    // MARK: State

    /// The case state the policy keeps for `stream` (its snapshot and the events
    /// after it), as of the log's head.
    public static func keptState(of stream: String, in store: EventStore) throws -> CaseState {
        var policy = DomainPolicy(today: BusinessDate.today())
        return try store.withLogView { log in
            guard case .caseState(let s) = try policy.load(stream, at: try log.version(of: stream), log: log) else { return CaseState() }
            return s
        }
    }

    /// The stream's state at `version`: cached, or its snapshot and the events after it.
    mutating func load(_ stream: String, at version: UInt64, log: LogView) throws -> Folded {
        if versions[stream]?.version == version, let state = states[stream] { return state }
        let entry = try refold(stream, at: version, log: log)
        states[stream] = entry.folded
        versions[stream] = entry.versions
        return entry.folded
    }

    /// Like ``load(_:at:log:)``, but takes the state out of the caches, so that
    /// the caller holds its only reference (and puts it back when done).
    private mutating func take(_ stream: String, at version: UInt64, log: LogView, snapshotVersion: inout UInt64) throws -> Folded {
        if let kept = versions[stream], kept.version == version, let state = states.removeValue(forKey: stream) {
            snapshotVersion = kept.snapshotVersion
            return state
        }
        let entry = try refold(stream, at: version, log: log)
        snapshotVersion = entry.versions.snapshotVersion
        return entry.folded
    }

    /// The stream's snapshot and the events after it, up to `version`.
    private func refold(_ stream: String, at version: UInt64, log: LogView) throws -> Entry {
        var entry = Entry(folded: StreamKind(stream: stream) == .coordinator ? .coordinator(CoordinatorState()) : .caseState(CaseState()),
                          versions: Versions(version: 0, snapshotVersion: 0))
        if let bytes = try log.state(Self.snapshotKey(stream)), let snapshot = Self.decodeSnapshot(bytes, stream: stream),
           snapshot.version <= version {
            entry = snapshot
        }
        for recorded in try log.events(of: stream, after: entry.version) where recorded.version <= version {
            let decoded = try DomainEvent.decode(recorded)
            // The state is moved out of the entry while it changes (one reference, no copy).
            switch entry.folded {
            case .caseState(var s):
                entry.folded = .coordinator(CoordinatorState())
                s.apply(decoded, occurredOn: recorded.occurredOn, personKey: recorded.sealed?.slot)
                entry.folded = .caseState(s)
            case .coordinator(var s):
                entry.folded = .coordinator(CoordinatorState())
                s.apply(decoded)
                entry.folded = .coordinator(s)
            }
            entry.versions.version = recorded.version
        }
        return entry
    }

    static func encodeSnapshot(_ state: Folded, version: UInt64) throws -> [UInt8] {
        var out: [UInt8] = [UInt8(CaseState.snapshotFormat)]
        var version = version.bigEndian
        withUnsafeBytes(of: &version) { out.append(contentsOf: $0) }
        var writer = CompactWriter()
        switch state {
        case .caseState(let s): s.write(to: &writer)
        case .coordinator(let s): s.write(to: &writer)
        }
        out.append(contentsOf: writer.bytes)
        return out
    }

    static func decodeSnapshot(_ bytes: [UInt8], stream: String) -> Entry? {
        guard bytes.count > 9, bytes[0] == UInt8(CaseState.snapshotFormat) else { return nil }
        let version = bytes[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return bytes[9...].withUnsafeBytes { body in
            if StreamKind(stream: stream) == .coordinator {
                guard let s = try? CoordinatorState(compactBytes: body) else { return nil }
                return Entry(folded: .coordinator(s), versions: Versions(version: version, snapshotVersion: version))
            }
            guard let s = try? CaseState(compactBytes: body) else { return nil }
            return Entry(folded: .caseState(s), versions: Versions(version: version, snapshotVersion: version))
        }
    }

    // MARK: Personal values and the person index

    /// What of `event` to seal, and under which key: the case's key once it has
    /// one; at the person's application, the person's key (made when they have
    /// none); in a case imported without its application (`--lenient`), a key
    /// of its own. Nil when the event has no personal value.
    private mutating func sealing(_ event: ProposedEvent, _ decoded: DomainEvent, state: CaseState, log: LogView) throws -> Sealing? {
        guard let fields = DomainEvent.sealedFields(of: event.type), PackedJSON.hasSealedValues(event.payload, fields) else { return nil }
        let application: ApplicationReceived? = if case .applicationReceived(let e) = decoded { e } else { nil }
        if let slot = state.personKey {
            guard let key = try log.personKey(slot) else {
                // Values that say only `[erased]` (an export taken after the erasure, imported
                // again) carry nothing personal: they are sealed under a key no one keeps.
                if PackedJSON.encode(event.payload, sealing: fields).sealed.allSatisfy({ $0 == PackedJSON.erasedMarker }) {
                    return Sealing(fields: fields, slot: slot, key: SymmetricKey(size: .bits256))
                }
                throw Refusal(.personErased, "the personal data of \(event.stream) has been erased; it takes no more personal values")
            }
            if let application, try personSlot(application.personId, log: log) == nil {
                try link(application.personId, to: slot, stream: event.stream, log: log)
            }
            return Sealing(fields: fields, slot: slot, key: key)
        }
        if let application, application.personId == PackedJSON.erasedMarker {
            // The person was erased before this case was exported: a key of its own, destroyed
            // when the batch commits, and no entry in the person index.
            let (slot, key) = try log.newErasedKey()
            return Sealing(fields: fields, slot: slot, key: key)
        }
        if let application {
            if let slot = try personSlot(application.personId, log: log), let key = try log.personKey(slot) {
                try addCase(event.stream, slot: slot, log: log)
                return Sealing(fields: fields, slot: slot, key: key)
            }
            let (slot, key) = try log.newPersonKey()
            try link(application.personId, to: slot, stream: event.stream, log: log)
            return Sealing(fields: fields, slot: slot, key: key)
        }
        let (slot, key) = try log.newPersonKey()
        return Sealing(fields: fields, slot: slot, key: key)
    }

    private mutating func indexValue(_ key: String, log: LogView) throws -> [UInt8]? {
        if let pending = pendingIndex[key] { return pending }
        return try log.state(Array(key.utf8))
    }

    private func streams(_ value: [UInt8]?) -> [String] {
        value.map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
    }

    private mutating func setStreams(_ key: String, _ streams: [String]) {
        pendingIndex[key] = .some(streams.isEmpty ? nil : Array(streams.joined(separator: "\n").utf8))
    }

    /// The slot of the person's key, nil when they have none.
    private mutating func personSlot(_ person: String, log: LogView) throws -> UInt32? {
        guard let bytes = try indexValue(try personIndexEntry(person, log: log), log: log) else { return nil }
        guard bytes.count == 4 else { throw LogError(.damaged, "a person index entry is damaged") }
        return bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    private mutating func link(_ person: String, to slot: UInt32, stream: String, log: LogView) throws {
        pendingIndex[try personIndexEntry(person, log: log)] = .some(withUnsafeBytes(of: slot.bigEndian) { Array($0) })
        try addCase(stream, slot: slot, log: log)
    }

    private mutating func addCase(_ stream: String, slot: UInt32, log: LogView) throws {
        var all = streams(try indexValue("cases/\(slot)", log: log))
        if !all.contains(stream) { all.append(stream) }
        setStreams("cases/\(slot)", all)
    }

    /// The person index entry of `person` (`person/<HMAC>`), making the store's secret on first use.
    private mutating func personIndexEntry(_ person: String, log: LogView) throws -> String {
        if secret == nil {
            if let stored = try log.state(Self.secretKey) {
                secret = stored
            } else {
                var bytes = [UInt8](repeating: 0, count: 32)
                var rng = SystemRandomNumberGenerator()
                for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                secret = bytes
                newSecret = true
            }
        }
        if let entry = personEntries[person] { return entry }
        let entry = Self.personIndexEntry(person, secret: secret!)
        personEntries[person] = entry
        return entry
    }

    /// The store's secret for pseudonyms of persons (nil until the first
    /// application): the key of the person index's HMAC.
    public static func pseudonymSecret(in store: EventStore) throws -> [UInt8]? {
        try store.withLogView { log in try log.state(secretKey) }
    }

    /// The store's pseudonym of `person`: the hex HMAC-SHA256 under `secret`
    /// that keys them in the person index. It tells nothing without the secret,
    /// which never leaves the store.
    public static func pseudonym(_ person: String, secret: [UInt8]) -> String {
        String(personIndexEntry(person, secret: secret).dropFirst("person/".count))
    }

    static func personIndexEntry(_ person: String, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(person.utf8), using: SymmetricKey(data: secret))
        return "person/" + Array(mac).hexString
    }

    /// The person's case other than `stream` that is open, if any.
    private mutating func openCase(person: String, other stream: String, log: LogView) throws -> String? {
        guard let slot = try personSlot(person, log: log) else { return nil }
        return try openCase(slot: slot, other: stream, log: log)
    }

    /// A case of the person with key `slot`, other than `stream`, that is open
    /// as the log stands (the index lists candidates; their state decides).
    private mutating func openCase(slot: UInt32, other stream: String? = nil, log: LogView) throws -> String? {
        for candidate in streams(try indexValue("open/\(slot)", log: log)) where candidate != stream {
            if case .caseState(let s) = try load(candidate, at: try log.version(of: candidate), log: log), s.isOpen {
                return candidate
            }
        }
        return nil
    }

    private mutating func setOpen(_ open: Bool, slot: UInt32, stream: String, log: LogView) throws {
        var all = streams(try indexValue("open/\(slot)", log: log)).filter { $0 != stream }
        if open { all.append(stream) }
        setStreams("open/\(slot)", all)
    }

    // MARK: Erasure

    /// What an erasure destroyed.
    public struct Erasure: Sendable, Hashable {
        /// The slot of the destroyed key.
        public var slot: UInt32
        /// The person's cases, whose personal values are now unreadable.
        public var cases: [String]
    }

    /// An erasure whose record in the access log is still to be written: kept
    /// in `policyState` (`erasing/<slot>`) from the erasure's own transaction
    /// until the access log has it, so an erasure cut short between the two is
    /// finished, record and all, by the next `iplog erase`.
    public struct PendingErasure: Sendable, Hashable, Codable {
        public var slot: UInt32
        /// When it was done, µs since the epoch: also the access-log entry's time.
        public var at: Int64
        public var actor: String
        public var reason: String
        public var cases: [String]
        /// The person's key in the access log's index (an HMAC under the access
        /// log's own secret, never the id): what to drop from it.
        public var accessKey: [UInt8]
    }

    static let pendingErasurePrefix = Array("erasing/".utf8)

    /// Erases a person (crypto-shredding): destroys their key, so every
    /// personal value sealed under it is unreadable for good, and removes them
    /// from the person index. The events stay, and so does the chain.
    ///
    /// In one write transaction of the log (no append hands the key out
    /// meanwhile) the person is taken out of the index, the log records the
    /// erasure, and a ``PendingErasure`` is kept for the access log; the key is
    /// destroyed right after that commits (``EventStore/erasingKey(_:)``). The
    /// caller writes the access log and then calls ``finishErasure(slot:in:)``.
    /// Refused while the person has an open case.
    ///
    /// - Returns: nil when the store has no key for the person (never had a
    ///   case, or erased already).
    public static func erase(person: String, in store: EventStore, actor: String, reason: String, accessKey: [UInt8]) throws -> PendingErasure? {
        var policy = DomainPolicy(today: BusinessDate.today())
        return try store.erasingKey { log -> (PendingErasure?, erase: UInt32?, changes: [(key: [UInt8], value: [UInt8]?)]) in
            guard let secret = try log.state(secretKey) else { return (nil, nil, []) }
            policy.secret = secret
            guard let slot = try policy.personSlot(person, log: log) else { return (nil, nil, []) }
            if let open = try policy.openCase(slot: slot, log: log) {
                throw Refusal(.personHasOpenCase, "the person has an open case (\(open)); close it before erasing")
            }
            let cases = policy.streams(try log.state(Array("cases/\(slot)".utf8)))
            let personEntry = personIndexEntry(person, secret: secret)
            let pending = PendingErasure(slot: slot, at: EventStore.systemClock().microsecondsSinceEpoch, actor: actor,
                                         reason: reason, cases: cases, accessKey: accessKey)
            let record = try JSONEncoder().encode(pending)
            return (pending, slot,
                    [(Array(personEntry.utf8), nil), (Array("open/\(slot)".utf8), nil), (Array("cases/\(slot)".utf8), nil),
                     (pendingErasurePrefix + Array("\(slot)".utf8), Array(record))])
        }
    }

    /// Erasures whose access-log record is still to be written, oldest first.
    public static func pendingErasures(in store: EventStore) throws -> [PendingErasure] {
        try store.withLogView { log in
            try log.states(prefix: pendingErasurePrefix).map { entry in
                do {
                    return try JSONDecoder().decode(PendingErasure.self, from: Data(entry.value))
                } catch {
                    throw LogError(.damaged, "a pending erasure record is damaged")
                }
            }
        }.sorted { $0.at < $1.at }
    }

    /// Forgets a pending erasure once the access log has its record.
    public static func finishErasure(slot: UInt32, in store: EventStore) throws {
        try store.updatePolicyState { _ in ((), [(pendingErasurePrefix + Array("\(slot)".utf8), nil)]) }
    }
}
