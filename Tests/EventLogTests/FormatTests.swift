import Foundation
import JSON
import LMDB
import Testing
@testable import EventLog

/// Rewrites a format-2 store into format 1 as docs/STORAGE.md describes it: the
/// format, chain head and key counter in a `meta` database, and every stream's
/// last version and position in `streamHeads`. The store must be closed.
func downgradeToFormat1(_ dir: String) throws {
    try damage(dir) { txn, db in
        let main = try txn.mainDatabase()
        let meta = try txn.openDatabase(named: "meta", flags: .create)
        let heads = try txn.openDatabase(named: "streamHeads", flags: .create)
        for name in ["head", "keys/next"] {
            let key = Array(name.utf8)
            if let value = try txn.get(main, key: key) {
                try txn.put(meta, key: key, value: value)
                try txn.delete(main, key: key)
            }
        }
        try txn.delete(main, key: EventStore.formatKey)
        try txn.put(meta, key: EventStore.formatKey, value: bigEndianBytes(1))
        var last: [[UInt8]: [UInt8]] = [:]
        try txn.scan(try db("streamIndex")) { key, value in
            let stream = Array(key[..<(key.count - 9)])
            last[stream] = Array(key[(key.count - 8)...]) + Array(value)
            return true
        }
        for (stream, head) in last { try txn.put(heads, key: stream, value: head) }
    }
}

struct StorageFormatTests {
    @Test func aFormat1StoreIsBroughtToFormat2WhenOpened() throws {
        try withTemporaryDirectory { dir in
            let before: (head: EventStore.Head, streams: [String], versions: [UInt64])
            do {
                let store = try EventStore(directory: dir)
                var policy = CountingPolicy()
                try store.append((0..<30).map { event("case-\($0 % 4)", $0) }, policy: &policy)
                var sealed = event("case-9", 99)
                sealed.payload = .object(["meetingId": .string("m-99"), "heldOn": .string("2026-03-14"), "secret": .string("Ola")])
                try store.append(sealed, policy: &policy)
                let streams = try store.streams()
                before = (try store.head(), streams.map(\.stream), streams.map(\.version))
            }
            try downgradeToFormat1(dir)

            do {
                let store = try EventStore(directory: dir)
                #expect(try store.head() == before.head)
                #expect(try store.streams().map(\.stream) == before.streams)
                #expect(try store.streams().map(\.version) == before.versions)
                #expect(try store.version(of: "case-1") == 8)
                #expect(try store.verify().ok)
                // Appends go on from the migrated heads and key counter.
                var policy = CountingPolicy()
                let next = try store.append(event("case-1", 100, expected: .exactly(8)), policy: &policy)
                #expect(next.position == before.head.position + 1 && next.version == 9)
                var sealed = event("case-10", 101)
                sealed.payload = .object(["meetingId": .string("m-101"), "heldOn": .string("2026-03-14"), "secret": .string("Kari")])
                let outcome = try store.append(sealed, policy: &policy)
                #expect(try store.read(from: outcome.position, limit: 1)[0].sealed?.slot == 1)  // slot 0 was taken before
                #expect(try store.verify().ok)
            }
            // The main database holds the format; `meta` only the format, for
            // older versions to refuse; `streamHeads` is gone.
            var found: (format: [UInt8]?, meta: [[UInt8]], heads: Database?) = (nil, [], nil)
            try damage(dir) { txn, _ in
                found.format = try txn.get(try txn.mainDatabase(), key: EventStore.formatKey)
                if let meta = try txn.existingDatabase(named: "meta") {
                    try txn.scan(meta) { key, value in
                        found.meta.append(Array(key) + [0x3D] + Array(value))
                        return true
                    }
                }
                found.heads = try txn.existingDatabase(named: "streamHeads")
            }
            #expect(found.format == bigEndianBytes(2))
            #expect(found.meta == [Array("format=".utf8) + bigEndianBytes(2)])
            #expect(found.heads == nil)
        }
    }

    @Test func aNewStoreTellsOlderVersionsItsFormatWhereTheyLook() throws {
        try withTemporaryDirectory { dir in
            _ = try EventStore(directory: dir)
            var legacy: [UInt8]?
            try damage(dir) { txn, db in legacy = try txn.get(try db("meta"), key: EventStore.formatKey) }
            #expect(legacy == bigEndianBytes(2))
        }
    }

    @Test func aStoreOfAnotherFormatIsRefusedUntouched() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, _ in try txn.put(try txn.mainDatabase(), key: EventStore.formatKey, value: bigEndianBytes(3)) }
            #expect { try EventStore(directory: dir) } throws: { ($0 as? LogError)?.code == .noStore }

            try downgradeToFormat1(dir)
            try damage(dir) { txn, db in try txn.put(try db("meta"), key: EventStore.formatKey, value: bigEndianBytes(7)) }
            #expect { try EventStore(directory: dir) } throws: { ($0 as? LogError)?.code == .noStore }
            var kept: [Database?] = []
            try damage(dir) { txn, _ in
                kept = [try txn.existingDatabase(named: "meta"), try txn.existingDatabase(named: "streamHeads")]
            }
            #expect(kept.allSatisfy { $0 != nil })
        }
    }

    @Test func eventsWithoutAFormatRecordAreReportedAsDamage() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, _ in try txn.delete(try txn.mainDatabase(), key: EventStore.formatKey) }
            #expect { try EventStore(directory: dir) } throws: { ($0 as? LogError)?.code == .damaged }
        }
    }

    @Test func aStreamsHeadIsItsOwnLastIndexEntryNotANeighboursWithTheSamePrefix() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            let streams = ["case-1", "case-1", "case-10", "case-10", "case-10", "case-1.5", "case-1_a", "case-2",
                           "coordinator-1"]
            try store.append(streams.enumerated().map { event($1, $0) }, policy: &policy)
            #expect(try store.version(of: "case-1") == 2)
            #expect(try store.version(of: "case-10") == 3)
            #expect(try store.version(of: "case-") == 0)
            #expect(try store.version(of: "case-3") == 0)
            #expect(try store.streams(prefix: "case-1").map { "\($0.stream)@\($0.version)" }
                    == ["case-1@2", "case-1.5@1", "case-10@3", "case-1_a@1"])
            #expect(try store.streams().count == 6)
            #expect(try store.statistics().streams == 6)
            #expect {
                try store.append(event("case-1", expected: .exactly(3)), policy: &policy)
            } throws: { ((($0 as? AppendFailure)?.error) as? LogError)?.code == .versionConflict }
            #expect(try store.append(event("case-1", expected: .exactly(2)), policy: &policy).version == 3)
        }
    }
}
