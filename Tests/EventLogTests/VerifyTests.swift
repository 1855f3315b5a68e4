import Foundation
import JSON
import LMDB
import Testing
@testable import EventLog

/// Opens the store's log with the raw binding to damage it. The store must be
/// closed: one process must not open the same LMDB environment twice.
func damage(_ dir: String, _ body: (borrowing WriteTransaction, (String) throws -> Database) throws -> Void) throws {
    let env = try Environment(path: dir + "/log", maxDatabases: 8)
    try env.write { txn in
        try body(txn) { name in try txn.openDatabase(named: name) }
    }
}

func filledStore(_ dir: String, events count: Int = 20) throws {
    let store = try EventStore(directory: dir)
    var policy = AcceptAll()
    try store.append((0..<count).map { event("case-\($0 % 3)", $0) }, policy: &policy)
    #expect(try store.verify().ok)
}

struct VerifyTests {
    @Test func findsAFlippedByteInAStoredEvent() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, db in
                let events = try db("events")
                var record = try txn.get(events, key: bigEndianBytes(7))!
                record[record.count - 40] ^= 0x01  // a payload byte
                try txn.put(events, key: bigEndianBytes(7), value: record)
            }
            let report = try EventStore(directory: dir).verify()
            #expect(!report.ok)
            #expect(report.problems.contains { $0.position == 7 && $0.kind == "hashMismatch" })
            #expect(!report.problems.contains { ($0.position ?? 0) < 7 })
        }
    }

    @Test func findsAMissingIndexEntry() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            let eleventh = try EventStore(directory: dir, create: false).read(from: 11, limit: 1)[0].eventID
            try damage(dir) { txn, db in
                try txn.delete(try db("streamIndex"), key: EventStore.streamKey("case-1", version: 2))
                try txn.delete(try db("eventIds"), key: eleventh.byteArray)
            }
            let report = try EventStore(directory: dir).verify()
            // case-1 version 2 is position 5 (events 1, 4, 7, … are case-1).
            #expect(report.problems.contains { $0.position == 5 && $0.kind == "missingIndexEntry" })
            #expect(report.problems.contains { $0.position == 11 && $0.kind == "missingIndexEntry" })
        }
    }

    @Test func findsAStrayIndexEntry() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, db in
                try txn.put(try db("streamIndex"), key: EventStore.streamKey("case-9", version: 1), value: bigEndianBytes(99))
            }
            let report = try EventStore(directory: dir).verify()
            #expect(report.problems.contains { $0.position == 99 && $0.kind == "strayIndexEntry" })
        }
    }

    @Test func findsABrokenChainAndRefusesToExtendIt() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, db in
                // Rewrite event 12 consistently with itself but chained to a wrong
                // predecessor: its own hash recomputes, the link does not.
                let events = try db("events")
                var record = try txn.get(events, key: bigEndianBytes(12))!
                let body = Array(record[..<(record.count - 32)])
                let forged = RecordCodec.chainHash(previous: [UInt8](repeating: 7, count: 32), position: 12, body: body)
                record.replaceSubrange((record.count - 32)..., with: forged)
                try txn.put(events, key: bigEndianBytes(12), value: record)
            }
            let store = try EventStore(directory: dir)
            let report = try store.verify()
            #expect(report.problems.contains { $0.position == 12 && $0.kind == "hashMismatch" })
            #expect(report.problems.contains { $0.position == 13 && $0.kind == "hashMismatch" })
        }
    }

    @Test func refusesToAppendWhenTheChainHeadDoesNotMatch() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, db in
                try txn.delete(try db("events"), key: bigEndianBytes(20))  // the last event is lost
            }
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            #expect {
                try store.append(event("case-1"), policy: &policy)
            } throws: { error in
                ((error as? AppendFailure)?.error as? LogError ?? error as? LogError)?.code == .chainBroken
            }
            let report = try store.verify()
            #expect(report.problems.contains { $0.kind == "chainHead" })
            #expect(report.problems.contains { $0.position == 20 && $0.kind == "strayIndexEntry" })
        }
    }

    /// A stream whose index points at a lost record: both reads of the stream
    /// refuse it as damaged and name the position, rather than skip it.
    @Test func aStreamPointingAtALostRecordIsDamaged() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)  // position 9 is case-2's third event
            try damage(dir) { txn, db in try txn.delete(try db("events"), key: bigEndianBytes(9)) }
            let store = try EventStore(directory: dir)
            func isDamagedAtNine(_ error: any Error) -> Bool {
                (error as? LogError)?.code == .damaged && "\(error)".contains("case-2 points at position 9")
            }
            #expect { try store.read(stream: "case-2") } throws: { isDamagedAtNine($0) }
            var visited = 0
            #expect { try store.scan(stream: "case-2") { _ in visited += 1; return true } } throws: { isDamagedAtNine($0) }
            #expect(visited == 0)  // looked up before any is visited
            #expect(try store.read(stream: "case-1").count == 7)
        }
    }

    @Test func findsAGapInPositions() throws {
        try withTemporaryDirectory { dir in
            try filledStore(dir)
            try damage(dir) { txn, db in try txn.delete(try db("events"), key: bigEndianBytes(9)) }
            let report = try EventStore(directory: dir).verify()
            #expect(report.problems.contains { $0.position == 10 && $0.kind == "gap" })
        }
    }
}
