import BinaryCodable
import EventLog
import Foundation
import JSON

/// A stream's state as the policy folds it.
enum Folded {
    case caseState(CaseState)
    case coordinator(CoordinatorState)
}

/// The folded states the policy keeps (``DomainPolicy``): in memory between
/// appends and across an import's batches, and as snapshots in the store (the
/// log's `policyState`, `snap/<stream>`), with their codec. A stream's state is
/// its snapshot plus the few events after it: an append never replays a whole
/// stream, and a snapshot of another format is simply refolded.
///
/// A state in memory is trusted only while the stream's version in the log
/// still matches; a batch that does not commit forgets the states it changed.
struct StateCache {
    /// Versions between snapshots: an append replays at most this many events of
    /// its stream (a few hundred microseconds), and an import writes a snapshot
    /// for one event in this many.
    var snapshotInterval: UInt64 = 64

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

    static func snapshotKey(_ stream: String) -> [UInt8] { Array(("snap/" + stream).utf8) }

    /// The stream's state at `version`: cached, or its snapshot and the events after it.
    mutating func load(_ stream: String, at version: UInt64, log: LogView) throws -> Folded {
        if versions[stream]?.version == version, let state = states[stream] { return state }
        let entry = try Self.refold(stream, at: version, log: log)
        states[stream] = entry.folded
        versions[stream] = entry.versions
        return entry.folded
    }

    /// Like ``load(_:at:log:)``, but takes the state out, so that the caller
    /// holds its only reference and it mutates in place; ``put(_:_:version:snapshotVersion:)``
    /// gives it back.
    mutating func take(_ stream: String, at version: UInt64, log: LogView, snapshotVersion: inout UInt64) throws -> Folded {
        if let kept = versions[stream], kept.version == version, let state = states.removeValue(forKey: stream) {
            snapshotVersion = kept.snapshotVersion
            return state
        }
        let entry = try Self.refold(stream, at: version, log: log)
        snapshotVersion = entry.versions.snapshotVersion
        return entry.folded
    }

    /// Keeps the stream's state after an event of the current batch.
    mutating func put(_ stream: String, _ state: consuming Folded, version: UInt64, snapshotVersion: UInt64) {
        states[stream] = state
        versions[stream] = Versions(version: version, snapshotVersion: snapshotVersion)
        touched.insert(stream)
    }

    /// The stream's snapshot and the events after it, up to `version`.
    static func refold(_ stream: String, at version: UInt64, log: LogView) throws -> Entry {
        var entry = Entry(folded: StreamKind(stream: stream) == .coordinator ? .coordinator(CoordinatorState()) : .caseState(CaseState()),
                          versions: Versions(version: 0, snapshotVersion: 0))
        if let bytes = try log.state(snapshotKey(stream)), let snapshot = decodeSnapshot(bytes, stream: stream),
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

    // MARK: Batches

    /// A batch begins: the states a batch that did not commit changed are forgotten.
    mutating func beginBatch() {
        for stream in touched { states[stream] = nil; versions[stream] = nil }
        touched.removeAll(keepingCapacity: true)
        if states.count > 200_000 { states = [:]; versions = [:] }  // bounded memory on huge imports
    }

    /// The snapshots the batch is to write with its commit: each stream it
    /// changed whose state is `snapshotInterval` versions past its last.
    mutating func snapshotWrites() -> [(key: [UInt8], value: [UInt8]?)] {
        var writes: [(key: [UInt8], value: [UInt8]?)] = []
        for stream in touched {
            guard let kept = versions[stream], kept.version - kept.snapshotVersion >= snapshotInterval,
                  let state = states[stream] else { continue }
            if let bytes = try? Self.encodeSnapshot(state, version: kept.version) {
                writes.append((Self.snapshotKey(stream), bytes))
                versions[stream]?.snapshotVersion = kept.version
            }
        }
        return writes
    }

    /// The batch committed: its states hold.
    mutating func didCommit() { touched.removeAll(keepingCapacity: true) }

    // MARK: Snapshot codec

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
}

extension DomainPolicy {
    /// The case state the policy keeps for `stream` (its snapshot and the events
    /// after it), as of the log's head.
    public static func keptState(of stream: String, in store: EventStore) throws -> CaseState {
        var cache = StateCache()
        return try store.withLogView { log in
            guard case .caseState(let s) = try cache.load(stream, at: try log.version(of: stream), log: log) else { return CaseState() }
            return s
        }
    }
}
