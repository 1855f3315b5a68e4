@testable import EventLog
import JSON
import Testing
@testable import Domain

/// The rules keep each stream's state as a snapshot every few versions plus the
/// events after it: the state must be the one the events fold to, and a
/// snapshot this version cannot read must be refolded, never trusted.
struct SnapshotTests {
    /// A generated municipality imported with a snapshot every 5 versions.
    func withSnapshots(_ body: (EventStore) throws -> Void) throws {
        try withStore { store in
            let items = sampleItems(cases: 120, seed: 9)
            var policy = DomainPolicy(today: today)
            policy.snapshotInterval = 5
            _ = try store.importEvents(items, batchSize: 500, policy: &policy)
            try body(store)
        }
    }

    func refolded(_ stream: String, _ store: EventStore) throws -> CaseState {
        try store.read(stream: stream).reduce(into: CaseState()) { s, e in
            s.apply(try DomainEvent.decode(e), occurredOn: e.occurredOn, personKey: e.sealed?.slot)
        }
    }

    func snapshot(_ stream: String, _ store: EventStore) throws -> [UInt8]? {
        try store.withLogView { try $0.state(StateCache.snapshotKey(stream)) }
    }

    @Test func snapshotsInTheCompactFormKeepTheStateTheEventsFoldTo() throws {
        try withSnapshots { store in
            var snapshotted = 0
            for (stream, version) in try store.streams(prefix: "case-") {
                #expect(try DomainPolicy.keptState(of: stream, in: store) == refolded(stream, store), "\(stream)")
                guard let bytes = try snapshot(stream, store) else { continue }
                snapshotted += 1
                #expect(bytes.first == UInt8(CaseState.snapshotFormat))
                let entry = try #require(StateCache.decodeSnapshot(bytes, stream: stream))
                #expect(entry.version >= 5 && entry.version <= version)
            }
            #expect(snapshotted > 100)
        }
    }

    @Test func aSnapshotOfAnotherFormatOrDamagedIsRefoldedNotTrusted() throws {
        try withSnapshots { store in
            let (stream, _) = try #require(try store.streams(prefix: "case-").first { try snapshot($0.stream, store) != nil })
            let good = try #require(try snapshot(stream, store))
            // A snapshot of the empty state claiming to be at the stream's head:
            // trusted, it would hide every event.
            var empty = try StateCache.encodeSnapshot(.caseState(CaseState()), version: good[1..<9].reduce(0) { $0 << 8 | UInt64($1) })
            for bytes in [[UInt8(3)] + empty.dropFirst(), Array(empty.dropLast()), empty + [0]] {
                try store.environment.write { txn in try txn.put(store.policyState, key: StateCache.snapshotKey(stream), value: bytes) }
                #expect(StateCache.decodeSnapshot(bytes, stream: stream) == nil)
                #expect(try DomainPolicy.keptState(of: stream, in: store) == refolded(stream, store))
            }
            // The same bytes with this version's format byte are trusted: what the test above relies on.
            empty[0] = UInt8(CaseState.snapshotFormat)
            try store.environment.write { txn in try txn.put(store.policyState, key: StateCache.snapshotKey(stream), value: empty) }
            #expect(try DomainPolicy.keptState(of: stream, in: store) == CaseState())
        }
    }
}
