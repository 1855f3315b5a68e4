import BinaryCodable
import Crypto
import EventLog
import Foundation
import JSON

/// The folded states the policy keeps: the cache, the snapshots in the
/// store, and their codec.
extension DomainPolicy {
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
    mutating func take(_ stream: String, at version: UInt64, log: LogView, snapshotVersion: inout UInt64) throws -> Folded {
        if let kept = versions[stream], kept.version == version, let state = states.removeValue(forKey: stream) {
            snapshotVersion = kept.snapshotVersion
            return state
        }
        let entry = try refold(stream, at: version, log: log)
        snapshotVersion = entry.versions.snapshotVersion
        return entry.folded
    }

    /// The stream's snapshot and the events after it, up to `version`.
    func refold(_ stream: String, at version: UInt64, log: LogView) throws -> Entry {
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
}
