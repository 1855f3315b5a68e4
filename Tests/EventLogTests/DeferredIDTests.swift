import Foundation
import LMDB
import Testing
@testable import EventLog

/// An import puts its event ids into the id index in bulk (`DeferredEventIDs`):
/// no id may be written twice meanwhile, whoever appends, and after a crash the
/// next append completes the index from the log.
struct DeferredIDTests {
    /// Import items of `events`, numbered from 1.
    func items(_ events: [ProposedEvent]) -> [ImportItem] {
        events.enumerated().map { ImportItem(line: $0.offset + 1, event: .success($0.element)) }
    }

    /// Every event of the log, each found in the id index at its position.
    func indexIsComplete(_ store: EventStore) throws -> Bool {
        let all = try store.read(from: 1, limit: 1_000_000)
        return try store.environment.read { txn in
            try store.readIDsThrough(txn) == nil
                && all.allSatisfy { try txn.get(store.eventIDs, key: $0.eventID) == bigEndianBytes($0.position) }
                && txn.statistics(store.eventIDs).entries == all.count
        }
    }

    @Test func anImportLeavesTheIndexCompleteAtEveryLimit() throws {
        for limit in [1, 7, 50, 1_000] {
            try withTemporaryDirectory { dir in
                let store = try EventStore(directory: dir, durable: false)
                var policy = AcceptAll()
                let events = (0..<120).map { event("case-\($0 % 9)", $0) }
                // After each batch commits, its ids are not in the index yet: the mark says so.
                var marks: [UInt64?] = []
                let summary = try store.importEvents(items(events), batchSize: 10, atomic: false, policy: &policy, deferredIDLimit: limit) { _ in
                    marks.append(try? store.environment.read { txn in try store.readIDsThrough(txn) })
                }
                #expect(marks.count == 12 && marks.allSatisfy { $0 != nil })
                #expect(summary.imported == 120)
                #expect(try indexIsComplete(store))
                #expect(try store.verify().ok)
            }
        }
    }

    @Test func anIdRepeatedInALaterBatchOfTheSameImportIsFound() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir, durable: false)
            var policy = AcceptAll()
            let first = event("case-1", 1)
            // Batches of 2: the repeat is three batches later, its id not yet in the index.
            let same = items([first, event("case-1", 2), event("case-2", 3), event("case-2", 4), event("case-3", 5), event("case-3", 6), first])
            let summary = try store.importEvents(same, batchSize: 2, atomic: false, policy: &policy, deferredIDLimit: 1_000) { _ in }
            #expect(summary.imported == 6 && summary.skipped == 1)

            // The same id with other content, two batches into another import: refused.
            var other = event("case-9", 9)
            other.eventID = first.eventID
            #expect {
                try store.importEvents(items([event("case-4", 7), event("case-4", 8), event("case-5", 9), other]), batchSize: 2, atomic: false,
                                       policy: &policy, deferredIDLimit: 1_000) { _ in }
            } throws: { error in
                ((error as? ImportFailure)?.error as? LogError)?.code == .duplicateEventId && (error as? ImportFailure)?.line == 4
            }
            // Within one import, before its ids reach the index.
            let early = event("case-6", 10)
            var clash = event("case-7", 11)
            clash.eventID = early.eventID
            #expect {
                try store.importEvents(items([early, event("case-6", 12), clash]), batchSize: 2, atomic: false,
                                       policy: &policy, deferredIDLimit: 1_000) { _ in }
            } throws: { error in
                ((error as? ImportFailure)?.error as? LogError)?.code == .duplicateEventId && (error as? ImportFailure)?.line == 3
            }
            #expect(try indexIsComplete(store))
            #expect(try store.verify().ok)
        }
    }

    @Test func afterACrashTheNextAppendCompletesTheIndexFromTheLog() throws {
        try withTemporaryDirectory { dir in
            let imported = (0..<30).map { event("case-\($0 % 4)", $0) }
            do {
                // An import that commits three batches and dies before putting their ids in.
                let store = try EventStore(directory: dir)
                var policy = AcceptAll()
                try store.append([event("case-0", 100)], policy: &policy)
                var deferred: DeferredEventIDs?
                for batch in stride(from: 0, to: 30, by: 10) {
                    _ = try store.append(Array(imported[batch..<batch + 10]), policy: &policy, deferring: true, deferred: &deferred)
                }
                #expect(deferred?.ids.count == 30 && deferred?.through == 1)
                #expect(try store.environment.read { txn in try store.readIDsThrough(txn) } == 1)
                #expect(try store.environment.read { txn in try txn.statistics(store.eventIDs).entries } == 1)
            }
            let store = try EventStore(directory: dir)
            // Verify expects the ids after the mark to wait for the next append.
            let report = try store.verify()
            #expect(report.ok, "\(report.problems)")
            var policy = AcceptAll()
            // An id of the unindexed tail is found: the same event answers with its position…
            let again = try store.append(imported[17], policy: &policy)
            #expect(!again.written && again.position == 19)
            #expect(try indexIsComplete(store))
            // …and another event with it is refused.
            var other = event("case-9", 1)
            other.eventID = imported[25].eventID
            #expect {
                try store.append(other, policy: &policy)
            } throws: { error in
                ((error as? AppendFailure)?.error as? LogError)?.code == .duplicateEventId
            }
            #expect(try store.head().position == 31)
            #expect(try store.verify().ok)
        }
    }

    @Test func anAppendBetweenAnImportsBatchesIsSafe() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir, durable: false)
            var policy = AcceptAll()
            var deferred: DeferredEventIDs?
            let first = (0..<5).map { event("case-1", $0) }
            _ = try store.append(first, policy: &policy, deferring: true, deferred: &deferred)
            // Another writer (another process) appends: it puts the import's ids in first.
            try store.append(event("case-2", 9), policy: &policy)
            #expect(try indexIsComplete(store))
            // The import goes on with what it kept, which is no longer the log's tail.
            let second = (5..<10).map { event("case-1", $0) }
            let outcomes = try store.append(second + [first[2]], policy: &policy, deferring: true, deferred: &deferred)
            #expect(outcomes.last?.written == false && outcomes.last?.position == 3)
            #expect(deferred?.through == 6 && deferred?.ids.count == 5)
            try store.flushDeferredIDs(&deferred)
            #expect(deferred == nil)
            #expect(try indexIsComplete(store))
            #expect(try store.verify().ok)
        }
    }

    @Test func verifyReportsADamagedOrMisplacedMark() throws {
        for mark in [[UInt8](repeating: 1, count: 3), bigEndianBytes(20), bigEndianBytes(99)] {
            try withTemporaryDirectory { dir in
                try filledStore(dir)
                try damage(dir) { txn, _ in
                    try txn.put(try txn.mainDatabase(), key: EventStore.idsThroughKey, value: mark)
                }
                let report = try EventStore(directory: dir).verify()
                #expect(report.problems.contains { $0.kind == "damaged" })
            }
        }
    }
}
