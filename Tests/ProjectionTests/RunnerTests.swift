import BinaryCodable
import CaseStatus
import CoordinatorWorkload
import Deviations
import Domain
import EventLog
import Foundation
import JSON
import ProjectionKit
@testable import ReadModels
import SampleData
import Testing

let sampleToday = BusinessDate(iso: "2026-11-23")!

/// A temporary store directory, removed at the end.
func withStoreDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-proj-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The sample's events, validated for the log.
func sampleEvents(cases: Int, seed: Int = 11) -> [ProposedEvent] {
    var out: [ProposedEvent] = []
    SampleData.generate(.init(cases: cases, seed: seed)) { envelope in
        out.append(try! Catalogue.validate(try! Envelope.decode(envelope, today: sampleToday, dateField: DomainEvent.dateField)))
    }
    return out
}

func views(_ dir: String) throws -> ViewStore {
    try ViewStore(directory: dir, projections: [CaseStatusProjection.name, DeviationsProjection.name, CoordinatorWorkloadProjection.name])
}

/// Every value of the three read models.
struct Snapshot: Equatable {
    var status: [String: StatusRecord]
    var deviations: [String: DeviationTracker]
    var workload: [String: [String]]

    init(_ views: ViewStore) throws {
        status = Dictionary(uniqueKeysWithValues: try views.values(StatusRecord.self, projection: CaseStatusProjection.name).map { ($0.key, $0.value) })
        deviations = Dictionary(uniqueKeysWithValues: try views.values(DeviationTracker.self, projection: DeviationsProjection.name).map { ($0.key, $0.value) })
        workload = Dictionary(uniqueKeysWithValues: try views.values([String].self, projection: CoordinatorWorkloadProjection.name).map { ($0.key, $0.value) })
    }
}

func catchUpAll(_ runner: ProjectionRunner) throws {
    try runner.catchUp(CaseStatusProjection())
    try runner.catchUp(DeviationsProjection())
    try runner.catchUp(CoordinatorWorkloadProjection())
}

func rebuildAll(_ runner: ProjectionRunner) throws {
    try runner.rebuild(CaseStatusProjection())
    try runner.rebuild(DeviationsProjection())
    try runner.rebuild(CoordinatorWorkloadProjection())
}

struct RunnerTests {
    @Test func incrementalCatchUpAndARebuildGiveTheSameReadModels() throws {
        try withStoreDirectory { dir in
            let log = try EventStore(directory: dir, durable: false)
            var runner = ProjectionRunner(log: log, views: try views(dir))
            runner.batchSize = 700
            let events = sampleEvents(cases: 150)
            var policy = DomainPolicy(today: sampleToday)
            for chunk in stride(from: 0, to: events.count, by: 1_500) {
                try log.append(Array(events[chunk..<min(chunk + 1_500, events.count)]), policy: &policy)
                try catchUpAll(runner)
            }
            let incremental = try Snapshot(runner.views)
            #expect(incremental.status.count > 150 && incremental.deviations.count == 150)
            try rebuildAll(runner)
            #expect(try Snapshot(runner.views) == incremental)
            for name in [CaseStatusProjection.name, DeviationsProjection.name, CoordinatorWorkloadProjection.name] {
                let cp = try runner.views.checkpoint(name)
                #expect(cp.position == UInt64(events.count) && cp.stoppedAt == nil && cp.generation == 1)
            }
            // The shared pass (one read and decode of each event for all three) gives the same,
            // also when it may keep only a few values in memory and must read the rest back.
            let shared = try ReadModels.rebuild(runner)
            #expect(try Snapshot(runner.views) == incremental)
            #expect(shared.values.allSatisfy { $0.position == UInt64(events.count) && $0.generation == 2 && $0.stoppedAt == nil })
            // Room for 40 cases a pass: the log is read in several passes, each for
            // a part of the cases, with one lane and with three.
            let bounded = try ReadModels.rebuild(runner, casesInMemory: 40, lanes: 1)
            #expect(try Snapshot(runner.views) == incremental)
            _ = try ReadModels.rebuild(runner, casesInMemory: 40, lanes: 3, batchSize: 500)
            #expect(try Snapshot(runner.views) == incremental)
            #expect(bounded.values.allSatisfy { $0.position == UInt64(events.count) && $0.generation == 3 })
            #expect(try Snapshot(runner.views) == incremental)
            // One read model on its own, in log order, with room for few values: the same again.
            for name in ReadModels.names {
                let one = switch name {
                case CaseStatusProjection.name: try runner.rebuild(CaseStatusProjection(), valuesInMemory: 3)
                case DeviationsProjection.name: try runner.rebuild(DeviationsProjection(), valuesInMemory: 3)
                default: try runner.rebuild(CoordinatorWorkloadProjection(), valuesInMemory: 3)
                }
                #expect(one.position == UInt64(events.count) && one.generation == 5 && one.stoppedAt == nil)
            }
            #expect(try Snapshot(runner.views) == incremental)
        }
    }

    @Test func aRebuildWhileEventsAreAppendedEndsCurrentAfterCatchUp() throws {
        try withStoreDirectory { dir in
            let log = try EventStore(directory: dir, durable: false)
            var runner = ProjectionRunner(log: log, views: try views(dir))
            runner.batchSize = 400
            let events = sampleEvents(cases: 150)
            let half = events.count / 2
            var policy = DomainPolicy(today: sampleToday)
            try log.append(Array(events[..<half]), policy: &policy)
            try catchUpAll(runner)
            let rest = Array(events[half...])
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                var p = DomainPolicy(today: sampleToday)
                for chunk in stride(from: 0, to: rest.count, by: 200) {
                    _ = try? log.append(Array(rest[chunk..<min(chunk + 200, rest.count)]), policy: &p)
                }
                done.signal()
            }
            try rebuildAll(runner)
            done.wait()
            try catchUpAll(runner)
            let afterRace = try Snapshot(runner.views)
            #expect(try log.head().position == UInt64(events.count))
            try rebuildAll(runner)
            #expect(try Snapshot(runner.views) == afterRace)
        }
    }

    @Test func aBadEventStopsTheProjectionsThatNeedItAndNotTheOthers() throws {
        try withStoreDirectory { dir in
            let log = try EventStore(directory: dir, durable: false)
            let runner = ProjectionRunner(log: log, views: try views(dir))
            let events = sampleEvents(cases: 20)
            var policy = DomainPolicy(today: sampleToday)
            try log.append(events, policy: &policy)
            // An event no projection can read, written past the domain (as a damaged
            // migration might have): a MeetingHeld without its fields.
            var accept = AcceptAll()
            let bad = try log.append(ProposedEvent(stream: "case-000003", type: "MeetingHeld", occurredOn: sampleToday, payload: .object(["meetingId": "m-x"])), policy: &accept)
            let good = try log.append(ProposedEvent(stream: "case-000003", type: "CoordinatorAppointed", occurredOn: sampleToday,
                                                    payload: .object(["coordinatorId": "0001", "appointedOn": "2026-11-23"])), policy: &accept)
            try catchUpAll(runner)
            // The shared rebuild stops the same two at the same event, and not the third.
            let rebuilt = try ReadModels.rebuild(runner)
            #expect(rebuilt[CaseStatusProjection.name]?.stoppedAt == bad.position && rebuilt[CoordinatorWorkloadProjection.name]?.stoppedAt == nil)
            for name in [CaseStatusProjection.name, DeviationsProjection.name] {
                let cp = try runner.views.checkpoint(name)
                #expect(cp.stoppedAt == bad.position && cp.position == bad.position - 1)
                #expect(cp.reason?.contains("MeetingHeld in case-000003") == true && cp.reason?.contains("data.heldOn") == true)
            }
            let workload = try runner.views.checkpoint(CoordinatorWorkloadProjection.name)
            #expect(workload.stoppedAt == nil && workload.position == good.position)
            #expect(try runner.views.value([String].self, projection: CoordinatorWorkloadProjection.name, key: "coordinator-0001")?.contains("case-000003") == true)
            // A stopped projection is not retried: the next catch-up returns at once, unchanged.
            let again = try runner.catchUp(CaseStatusProjection())
            #expect(again.stoppedAt == bad.position && again.position == bad.position - 1)
        }
    }
}

/// The shared rebuild writes a case's state once for both read models: the
/// bytes it puts together must be exactly each read model's own encoding.
struct SharedEncodingTests {
    @Test func aCaseFoldsBytesAreEachReadModelsOwn() throws {
        try withStoreDirectory { dir in
            let log = try EventStore(directory: dir, durable: false)
            var policy = DomainPolicy(today: sampleToday)
            try log.append(sampleEvents(cases: 40, seed: 3), policy: &policy)
            var checked = 0
            for (stream, _) in try log.streams(prefix: "case-") {
                var fold = CaseFold()
                try log.scan(stream: stream) { event in
                    fold.apply(try DomainEvent.decode(event), event)
                    return true
                }
                let encoded = fold.encoded
                #expect(encoded.status == StatusRecord(version: fold.version, caseState: fold.tracker.state).compactBytes, "\(stream)")
                #expect(encoded.tracker == fold.tracker.compactBytes, "\(stream)")
                checked += 1
            }
            #expect(checked == 40)
        }
    }

    /// Read models and snapshots written before schema version 2 of
    /// AppealDecided hold `upheld`: it reads as `confirmed`.
    @Test func anOutcomeStoredByTheFormerVersionReadsAsItsSuccessor() throws {
        var w = CompactWriter()
        w.write("upheld")
        #expect(try w.bytes.withUnsafeBytes { try AppealOutcome(compactBytes: $0) } == .confirmed)
        #expect(try AppealOutcome.quashed.compactBytes.withUnsafeBytes { try AppealOutcome(compactBytes: $0) } == .quashed)
        var bad = CompactWriter()
        bad.write("maybe")
        #expect(throws: CompactError.self) { try bad.bytes.withUnsafeBytes { try AppealOutcome(compactBytes: $0) } }
    }
}

struct ReportExpectationTests {
    /// Expectations computed from the raw JSON lines, without the domain's fold
    /// or the deviation engine.
    @Test func reportsAgreeWithAnIndependentCount() throws {
        try withStoreDirectory { dir in
            let log = try EventStore(directory: dir, durable: false)
            let runner = ProjectionRunner(log: log, views: try views(dir))
            var lines: [JSONValue] = []
            SampleData.generate(.init(cases: 400, seed: 5)) { lines.append($0) }
            var policy = DomainPolicy(today: sampleToday)
            try log.append(lines.map { try! Catalogue.validate(try! Envelope.decode($0, today: sampleToday, dateField: DomainEvent.dateField)) }, policy: &policy)
            try catchUpAll(runner)
            let query = DeviationQuery(log: log, views: runner.views, config: .defaults)

            for asOf in ["2024-09-30", "2025-06-15", "2025-12-31"] {
                let date = BusinessDate(iso: asOf)!
                func s(_ v: JSONValue?, _ k: String) -> String { v?[k]?.stringValue ?? "" }
                func day(_ text: String) -> BusinessDate { BusinessDate(iso: text)! }
                var closedOn: [String: BusinessDate] = [:]
                var reported: [String: BusinessDate] = [:], resolved: [String: BusinessDate] = [:]
                var items: [String: BusinessDate] = [:], completed: [String: BusinessDate] = [:]
                var coordinatorOf: [String: String?] = [:]
                for line in lines where day(s(line, "occurredOn")) <= date {
                    let stream = s(line, "stream"), data = line["data"]
                    switch s(line, "type") {
                    case "PlanClosed": closedOn[stream] = day(s(data, "closedOn"))
                    case "DeviationReported": reported[stream + "/" + s(data, "deviationId")] = day(s(data, "reportedOn"))
                    case "DeviationResolved": resolved[stream + "/" + s(data, "deviationId")] = day(s(data, "resolvedOn"))
                    case "MeetingHeld":
                        for item in data?["actionItems"]?.arrayValue ?? [] { items[stream + "/" + s(item, "itemId")] = day(s(item, "dueOn")) }
                    case "ActionItemCompleted": completed[stream + "/" + s(data, "itemId")] = day(s(data, "completedOn"))
                    case "CoordinatorAppointed": coordinatorOf[stream] = s(data, "coordinatorId")
                    case "CoordinatorReleased": coordinatorOf[stream] = .some(nil)
                    default: break
                    }
                }
                // reportedDeviation: reported, not yet resolved (closing does not end it).
                let expectedReported = Set(reported.keys.filter { resolved[$0] == nil })
                let gotReported = Set(try query.open(asOf: date, rule: .reportedDeviation).map { $0.stream + "/" + ($0.ref ?? "") })
                #expect(gotReported == expectedReported, "reportedDeviation as of \(asOf)")
                // actionItemOverdue: past its due date, not completed, the case not closed.
                let expectedItems = Set(items.filter { key, due in
                    let stream = String(key.split(separator: "/")[0])
                    return due < date && completed[key] == nil && closedOn[stream] == nil
                }.keys)
                let gotItems = Set(try query.open(asOf: date, rule: .actionItemOverdue).map { $0.stream + "/" + ($0.ref ?? "") })
                #expect(gotItems == expectedItems, "actionItemOverdue as of \(asOf)")
                // Workload: active cases per coordinator.
                var expectedActive: [String: Int] = [:]
                for (stream, coordinator) in coordinatorOf {
                    if let coordinator, closedOn[stream] == nil { expectedActive[coordinator, default: 0] += 1 }
                }
                let rows = try WorkloadQuery(deviations: query).rows(asOf: date)
                let gotActive = Dictionary(uniqueKeysWithValues: rows.filter { $0.activeCases > 0 }.map { ($0.coordinatorId, $0.activeCases) })
                #expect(gotActive == expectedActive, "active cases as of \(asOf)")
            }
        }
    }
}
