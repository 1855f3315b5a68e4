import BinaryCodable
import Crypto
import EventLog
import Foundation
import JSON

/// DOMAIN.md's rules in front of every append, inside the log's write
/// transaction, so that rules spanning streams (one open case per person; the
/// coordinator must be registered and active) hold across processes.
///
/// What the rules need is kept in the store (the log's `policyState` database):
///
/// - `snap/<stream>`: a snapshot of the stream's folded state, written every
///   ``snapshotInterval`` versions. A stream's state is its snapshot plus the few
///   events after it, read by version from the stream index: an append never
///   replays a whole stream, and a snapshot of another format is simply refolded.
/// - `open/<HMAC(person id)>`: the streams of the person's open cases (rule 2),
///   under a keyed hash, so the person id is not stored in the clear there.
/// - `secret/personIndex`: the store's random key for that hash.
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

    struct Entry {
        var folded: Folded
        var version: UInt64
        var snapshotVersion: UInt64
    }

    private var committed: [String: Entry] = [:]
    private var provisional: [String: Entry] = [:]
    private var touched: Set<String> = []
    private var openCases: [String: [String]] = [:]
    private var secret: [UInt8]?
    private var newSecret = false

    public init(today: BusinessDate, lenient: Bool = false) {
        self.today = today
        self.lenient = lenient
    }

    static let secretKey = Array("secret/personIndex".utf8)
    static func snapshotKey(_ stream: String) -> [UInt8] { Array(("snap/" + stream).utf8) }

    // MARK: AppendPolicy

    public mutating func beginBatch() {
        provisional = [:]
        touched = []
        openCases = [:]
        if newSecret { secret = nil }
        newSecret = false
        if committed.count > 200_000 { committed = [:] }  // bounded memory on huge imports
    }

    public mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws {
        let decoded = try DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload, canonical: false).event
        let stream = event.stream
        var entry = try load(stream, at: streamVersion, log: log)
        // Out of the caches and out of the entry while it is changed, so the state
        // has one reference and mutates in place instead of being copied.
        provisional[stream] = nil
        committed[stream] = nil
        let folded = entry.folded
        entry.folded = .coordinator(CoordinatorState())
        switch consume folded {
        case .caseState(var state):
            if !lenient {
                var inputs = RuleInputs(today: today)
                if case .applicationReceived(let e) = decoded {
                    inputs.personHasOpenCase = try hasOpenCase(person: e.personId, other: stream, log: log)
                }
                if case .coordinatorAppointed(let e) = decoded {
                    let coordinatorStream = "coordinator-" + e.coordinatorId
                    if case .coordinator(let c) = try load(coordinatorStream, at: try log.version(of: coordinatorStream), log: log).folded {
                        inputs.appointedCoordinator = c
                    }
                }
                try Rules.check(decoded, type: event.type, occurredOn: event.occurredOn, stream: stream, state: state, inputs: inputs)
            }
            let wasOpen = state.isOpen
            state.apply(decoded, occurredOn: event.occurredOn)
            if wasOpen != state.isOpen, let person = state.personId {
                try setOpen(state.isOpen, person: person, stream: stream, log: log)
            }
            entry.folded = .caseState(state)
        case .coordinator(var state):
            if !lenient {
                try Rules.checkCoordinator(decoded, type: event.type, occurredOn: event.occurredOn, stream: stream,
                                           state: state, inputs: RuleInputs(today: today))
            }
            state.apply(decoded)
            entry.folded = .coordinator(state)
        }
        entry.version = streamVersion + 1
        provisional[stream] = entry
        touched.insert(stream)
    }

    public mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] {
        var writes: [(key: [UInt8], value: [UInt8]?)] = []
        if newSecret, let secret { writes.append((Self.secretKey, secret)) }
        for stream in touched {
            guard var entry = provisional[stream], entry.version - entry.snapshotVersion >= snapshotInterval else { continue }
            if let bytes = try? Self.encodeSnapshot(entry) {
                writes.append((Self.snapshotKey(stream), bytes))
                entry.snapshotVersion = entry.version
                provisional[stream] = entry
            }
        }
        for (key, streams) in openCases {
            writes.append((Array(key.utf8), streams.isEmpty ? nil : Array(streams.joined(separator: "\n").utf8)))
        }
        return writes
    }

    public mutating func didCommit() {
        committed.merge(provisional) { _, new in new }
        provisional = [:]
        touched = []
        openCases = [:]
        newSecret = false
    }

    // MARK: State

    /// The case state the policy keeps for `stream` (its snapshot and the events
    /// after it), as of the log's head.
    public static func keptState(of stream: String, in store: EventStore) throws -> CaseState {
        var policy = DomainPolicy(today: BusinessDate.today())
        return try store.withLogView { log in
            guard case .caseState(let s) = try policy.load(stream, at: try log.version(of: stream), log: log).folded else { return CaseState() }
            return s
        }
    }

    /// The stream's state at `version`: cached, or its snapshot and the events after it.
    mutating func load(_ stream: String, at version: UInt64, log: LogView) throws -> Entry {
        if let entry = provisional[stream] ?? committed[stream], entry.version == version { return entry }
        var entry = Entry(folded: StreamKind(stream: stream) == .coordinator ? .coordinator(CoordinatorState()) : .caseState(CaseState()),
                          version: 0, snapshotVersion: 0)
        if let bytes = try log.state(Self.snapshotKey(stream)), let snapshot = Self.decodeSnapshot(bytes, stream: stream),
           snapshot.version <= version {
            entry = snapshot
        }
        for recorded in try log.events(of: stream, after: entry.version) where recorded.version <= version {
            let decoded = try DomainEvent.decode(type: recorded.type, schemaVersion: recorded.schemaVersion, payload: try recorded.payload(), canonical: false).event
            switch entry.folded {
            case .caseState(var s):
                s.apply(decoded, occurredOn: recorded.occurredOn)
                entry.folded = .caseState(s)
            case .coordinator(var s):
                s.apply(decoded)
                entry.folded = .coordinator(s)
            }
            entry.version = recorded.version
        }
        provisional[stream] = entry
        return entry
    }

    static func encodeSnapshot(_ entry: Entry) throws -> [UInt8] {
        var out: [UInt8] = [UInt8(CaseState.snapshotFormat)]
        var version = entry.version.bigEndian
        withUnsafeBytes(of: &version) { out.append(contentsOf: $0) }
        switch entry.folded {
        case .caseState(let s): out.append(contentsOf: try BinaryCoder.encode(s))
        case .coordinator(let s): out.append(contentsOf: try BinaryCoder.encode(s))
        }
        return out
    }

    static func decodeSnapshot(_ bytes: [UInt8], stream: String) -> Entry? {
        guard bytes.count > 9, bytes[0] == UInt8(CaseState.snapshotFormat) else { return nil }
        let version = bytes[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let body = Array(bytes[9...])
        if StreamKind(stream: stream) == .coordinator {
            guard let s = try? BinaryCoder.decode(CoordinatorState.self, from: body) else { return nil }
            return Entry(folded: .coordinator(s), version: version, snapshotVersion: version)
        }
        guard let s = try? BinaryCoder.decode(CaseState.self, from: body) else { return nil }
        return Entry(folded: .caseState(s), version: version, snapshotVersion: version)
    }

    // MARK: The person index (rule 2)

    private mutating func personKey(_ person: String, log: LogView) throws -> String {
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
        let mac = HMAC<SHA256>.authenticationCode(for: Array(person.utf8), using: SymmetricKey(data: secret!))
        return "open/" + Array(mac).hexString
    }

    private mutating func openStreams(_ key: String, log: LogView) throws -> [String] {
        if let pending = openCases[key] { return pending }
        guard let bytes = try log.state(Array(key.utf8)) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    private mutating func hasOpenCase(person: String, other stream: String, log: LogView) throws -> Bool {
        let key = try personKey(person, log: log)
        for candidate in try openStreams(key, log: log) where candidate != stream {
            if case .caseState(let s) = try load(candidate, at: try log.version(of: candidate), log: log).folded, s.isOpen {
                return true
            }
        }
        return false
    }

    private mutating func setOpen(_ open: Bool, person: String, stream: String, log: LogView) throws {
        let key = try personKey(person, log: log)
        var streams = try openStreams(key, log: log).filter { $0 != stream }
        if open { streams.append(stream) }
        openCases[key] = streams
    }
}
