import BinaryCodable
import CaseStatus
import Deviations
import Domain
import CoordinatorWorkload
import EventLog
@testable import ProjectionKit
import Testing

/// The read models' large values and the rules' snapshots are stored in their
/// compact form: every folded value must come back exactly, and damaged bytes
/// must be refused, never crash or read as another value.
struct CompactValueTests {
    /// The values of a generated municipality, folded in memory from its log as
    /// the read models fold them (not read back from a view, which would hide
    /// a field the compact form leaves out).
    static let folded: (status: [StatusRecord], trackers: [DeviationTracker]) = try! withStoreDirectory { dir in
        let log = try EventStore(directory: dir, durable: false)
        var policy = DomainPolicy(today: sampleToday)
        try log.append(sampleEvents(cases: 300, seed: 21), policy: &policy)
        var status: [StatusRecord] = []
        var trackers: [DeviationTracker] = []
        for (stream, _) in try log.streams() {
            var record: StatusRecord?
            var tracker: DeviationTracker?
            try log.scan(stream: stream) { event in
                let decoded = try DomainEvent.decode(event)
                try CaseStatusProjection().apply(event, decoded: decoded, to: &record)
                if stream.hasPrefix("case-") { try DeviationsProjection().apply(event, decoded: decoded, to: &tracker) }
                return true
            }
            status.append(record!)
            if let tracker { trackers.append(tracker) }
        }
        return (status, trackers)
    }

    @Test func everyFoldedValueComesBackExactly() throws {
        let (status, trackers) = Self.folded
        #expect(status.contains { $0.coordinator?.registered != nil } && status.contains { $0.caseState?.closed != nil })
        for record in status {
            let bytes = record.compactBytes
            #expect(try bytes.withUnsafeBytes { try StatusRecord(compactBytes: $0) } == record)
        }
        for tracker in trackers {
            #expect(try tracker.compactBytes.withUnsafeBytes { try DeviationTracker(compactBytes: $0) } == tracker)
        }
        // The sample sets every field of a case's state somewhere, so a field
        // left out of the compact form shows above.
        let states = status.compactMap(\.caseState)
        let setSomewhere: [(String, (CaseState) -> Bool)] = [
            ("status", { $0.status != nil }), ("personKey", { $0.personKey != nil }), ("receivedOn", { $0.receivedOn != nil }),
            ("requested", { !$0.requested.isEmpty }), ("origin", { $0.origin != nil }), ("unit", { $0.unit != nil }),
            ("preliminaryReplies", { !$0.preliminaryReplies.isEmpty }), ("expectedDecisionBy", { $0.expectedDecisionBy != nil }),
            ("assessment", { $0.assessment != nil }), ("consent", { !$0.consent.isEmpty }), ("decisions", { !$0.decisions.isEmpty }),
            ("lettersSent", { !$0.lettersSent.isEmpty }), ("appeals", { $0.appeals.contains { $0.outcome != nil && $0.decisionSentOn != nil } }),
            ("appointments", { $0.appointments.contains { $0.releasedOn != nil } }), ("members", { !$0.members.isEmpty }),
            ("memberIDs", { !$0.memberIDs.isEmpty }), ("meetings", { $0.meetings.values.contains { $0.minutesWrittenOn != nil } }),
            ("items", { $0.items.values.contains { $0.completedOn != nil } }), ("planEstablishedOn", { $0.planEstablishedOn != nil }),
            ("goals", { $0.goals.values.contains { $0.achievedOn != nil } }), ("measures", { !$0.measures.isEmpty }),
            ("nextEvaluationDue", { $0.nextEvaluationDue != nil }), ("evaluations", { !$0.evaluations.isEmpty }),
            ("transitions", { !$0.transitions.isEmpty }), ("deviations", { $0.deviations.values.contains { $0.resolvedOn != nil } }),
            ("closed", { $0.closed != nil }), ("lastEventOn", { $0.lastEventOn != nil }),
        ]
        #expect(setSomewhere.count == Mirror(reflecting: CaseState()).children.count)
        for (field, isSet) in setSomewhere { #expect(states.contains(where: isSet), "no sample state sets \(field)") }
        #expect(trackers.contains { $0.intervals.contains { $0.ref != nil && $0.deadline != nil && $0.end != nil } })
    }

    /// A tripwire: a stored field added to the case state needs its place in
    /// the compact form (CompactState.swift) and a new snapshot format.
    @Test func theCompactFormCoversEveryStoredFieldOfTheCaseState() {
        #expect(Mirror(reflecting: CaseState()).children.count == 27)
        // The tracker's fifth, its unended intervals, is drawn from the intervals when read.
        #expect(Mirror(reflecting: DeviationTracker()).children.count == 5)
        #expect(Mirror(reflecting: DeviationInterval(rule: .meetingOverdue, start: d("2026-01-01"))).children.count == 6)
        #expect(CaseState.snapshotFormat == 5 && ViewStore.valueFormat == 5)
    }

    /// Read models written by an older version (value format 1: JSON) are
    /// regenerated on the next catch-up, which is what every report does first,
    /// instead of being read as compact bytes.
    @Test func readModelsOfTheFormerValueFormatAreRebuiltBeforeTheyAreRead() throws {
        try withStoreDirectory { dir in
            let log = try EventStore(directory: dir, durable: false)
            let runner = ProjectionRunner(log: log, views: try views(dir))
            var policy = DomainPolicy(today: sampleToday)
            try log.append(sampleEvents(cases: 40), policy: &policy)
            try catchUpAll(runner)
            let expected = try Snapshot(runner.views)
            // Make the active views what an older version left: JSON, format 1.
            let environment = runner.views.environment
            for name in [CaseStatusProjection.name, DeviationsProjection.name] {
                var checkpoint = try runner.views.checkpoint(name)
                let slot = runner.views.slot(name, checkpoint.generation)
                try environment.write { txn in
                    for (key, value) in expected.status where name == CaseStatusProjection.name {
                        try txn.put(slot, key: Array(key.utf8), value: Array("{\"version\":\(value.version)}".utf8))
                    }
                    for (key, _) in expected.deviations where name == DeviationsProjection.name {
                        try txn.put(slot, key: Array(key.utf8), value: Array("{\"state\":{}}".utf8))
                    }
                    checkpoint.format = 1
                    try runner.views.setCheckpoint(txn, name, checkpoint)
                }
            }
            #expect(throws: (any Error).self) { try Snapshot(runner.views) }  // unreadable as they stand
            try catchUpAll(runner)
            #expect(try Snapshot(runner.views) == expected)
            for name in [CaseStatusProjection.name, DeviationsProjection.name] {
                let checkpoint = try runner.views.checkpoint(name)
                let head = try log.head().position
                #expect(checkpoint.format == ViewStore.valueFormat && checkpoint.generation == 1 && checkpoint.position == head)
            }
        }
    }

    @Test func cutOrPaddedBytesAreRefused() throws {
        let tracker = try #require(Self.folded.trackers.max { $0.compactBytes.count < $1.compactBytes.count })
        let bytes = tracker.compactBytes
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            #expect(throws: CompactError.self) { try Array(bytes[..<cut]).withUnsafeBytes { try DeviationTracker(compactBytes: $0) } }
        }
        #expect(throws: CompactError.self) { try (bytes + [0]).withUnsafeBytes { try DeviationTracker(compactBytes: $0) } }
    }

    /// One damaged byte: the reader refuses it (a `CompactError`), or reads a
    /// value that is a faithful reading of those bytes (it writes back to a
    /// form that reads as the same value); never a crash. Some damage must be
    /// refused, and some must read as another value than the original.
    @Test func damagedBytesNeverCrash() {
        let bytes = Self.folded.status.map(\.compactBytes).max { $0.count < $1.count }!
        let original = try! bytes.withUnsafeBytes { try StatusRecord(compactBytes: $0) }
        var state: UInt64 = 42
        var refused = 0, changed = 0
        for _ in 0..<5_000 {
            var damaged = bytes
            state = state &* 6364136223846793005 &+ 1442695040888963407
            damaged[Int(state >> 33) % damaged.count] = UInt8(truncatingIfNeeded: state >> 13)
            do {
                let read = try damaged.withUnsafeBytes { try StatusRecord(compactBytes: $0) }
                let again = try read.compactBytes.withUnsafeBytes { try StatusRecord(compactBytes: $0) }
                #expect(again == read, "a damaged record that reads does not read back the same")
                if read != original { changed += 1 }
            } catch is CompactError {
                refused += 1
            } catch {
                Issue.record("not a CompactError: \(error)")
            }
        }
        #expect(refused > 500, "damage refused \(refused) times in 5,000")
        #expect(changed > 0)
    }
}
