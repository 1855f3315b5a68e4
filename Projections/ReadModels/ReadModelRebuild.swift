import BinaryCodable
import CaseStatus
import CoordinatorWorkload
import Deviations
import Dispatch
import Domain
import EventLog
import ProjectionKit

/// The three read models of a store (case status, deviations, coordinator
/// workload), rebuilt together.
public enum ReadModels {
    /// Their names, in the order they are reported.
    public static let names = [CaseStatusProjection.name, DeviationsProjection.name, CoordinatorWorkloadProjection.name]

    /// Rebuilds all three in one pass over the log, then catches each up with
    /// what was appended meanwhile.
    ///
    /// - One cursor reads the log in log order, a batch of events a read
    ///   transaction, each event lent where it lies (``StoredEvent``).
    /// - Each case keeps one state that both the case status and the deviations
    ///   are written from (a ``DeviationTracker`` holds the case's ``CaseState``),
    ///   so each event is decoded once and folded once.
    /// - The cases are split into `lanes` by their stream's name, and each lane
    ///   folds its cases' events of the batch on a core of its own (a case's
    ///   events stay in one lane, in log order). Coordinator streams go to the first.
    /// - Each read model is written into its inactive slot and swapped in
    ///   (``RebuildSlots``).
    ///
    /// Memory: once a lane holds more than its share of `valuesInMemory` cases,
    /// it writes every changed one to the new slots and drops the half folded
    /// longest ago; a dropped case that comes again is read back.
    ///
    /// An event that does not decode ends the pass: each read model is then
    /// rebuilt on its own (``ProjectionRunner/rebuild(_:valuesInMemory:progress:)``),
    /// which stops it exactly there, as catch-up does, and leaves the others whole.
    @discardableResult
    public static func rebuild(_ runner: ProjectionRunner, valuesInMemory: Int = 100_000, lanes laneCount: Int = 2,
                               progress: (UInt64) -> Void = { _ in }) throws -> [String: Checkpoint] {
        let head = try runner.log.head().position
        let slots = try RebuildSlots(runner.views, names: names)
        let lanes = (0..<max(laneCount, 1)).map { _ in
            Lane(slots: slots, keys: runner.log.personKeys, valuesInMemory: max(valuesInMemory / laneCount, 2))
        }
        var routed = Array(repeating: [StoredEvent](), count: lanes.count)
        do {
            try runner.log.scan(from: 1, through: head, batchSize: 1 << 14) { batch in
                for event in batch { routed[lane(of: event, among: lanes.count)].append(event) }
                try foldConcurrently(routed, into: lanes)
                for i in routed.indices { routed[i].removeAll(keepingCapacity: true) }
                progress(batch.last!.position)
            }
            try lanes[0].finish(merging: lanes.dropFirst(), through: head)
        } catch is PassStopped {
            return [
                CaseStatusProjection.name: try runner.rebuild(CaseStatusProjection(), progress: progress),
                DeviationsProjection.name: try runner.rebuild(DeviationsProjection(), progress: progress),
                CoordinatorWorkloadProjection.name: try runner.rebuild(CoordinatorWorkloadProjection(), progress: progress),
            ]
        }
        return [
            CaseStatusProjection.name: try runner.catchUp(CaseStatusProjection()),
            DeviationsProjection.name: try runner.catchUp(DeviationsProjection()),
            CoordinatorWorkloadProjection.name: try runner.catchUp(CoordinatorWorkloadProjection()),
        ]
    }

    /// The lane of an event: a case stream's by a hash of its name (FNV-1a),
    /// every other stream the first.
    static func lane(of event: StoredEvent, among count: Int) -> Int {
        guard count > 1, event.streamHasPrefix("case-") else { return 0 }
        var hash: UInt32 = 2_166_136_261
        for byte in event.streamBytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % UInt32(count))
    }

    /// Each lane folds its events, all lanes at once; the first error is thrown.
    private static func foldConcurrently(_ routed: [[StoredEvent]], into lanes: [Lane]) throws {
        if lanes.count == 1 { return try lanes[0].fold(routed[0]) }
        let errors = PerLane<any Error>(count: lanes.count)
        DispatchQueue.concurrentPerform(iterations: lanes.count) { i in
            do { try lanes[i].fold(routed[i]) } catch { errors[i] = error }
        }
        if let error = errors.all.first { throw error }
    }
}

/// An event did not decode: the pass gives way to each read model's own rebuild.
struct PassStopped: Error {}

/// One value per lane, each written by its own lane's thread and read after
/// every lane is done (the storage is allocated up front, so no write touches
/// another's memory or a shared header).
private final class PerLane<T>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>
    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }
    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }
    subscript(i: Int) -> T? {
        get { slots[i] }
        set { slots[i] = newValue }
    }
    var all: [T] { slots.compactMap { $0 } }
}

/// One case's state during the pass: what both read models of a case are
/// written from.
struct CaseFold {
    /// The stream's version (the case status keeps it).
    var version: UInt64 = 0
    /// The deviations' tracker, whose ``DeviationTracker/state`` is the case status.
    var tracker = DeviationTracker()
    /// The position of the case's last event folded (which to drop first).
    var touched: UInt64 = 0
    /// Changed since it was last written.
    var changed = false

    mutating func apply(_ decoded: DomainEvent, _ event: StoredEvent) {
        version = event.version
        tracker.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealedSlot)
        touched = event.position
        changed = true
    }

    var statusRecord: StatusRecord { StatusRecord(version: version, caseState: tracker.state) }
}

/// One lane of the pass: the cases it folds, and (the first lane) the
/// coordinators; the workload of its cases' appointments. Used by one thread
/// at a time: the pass waits for every lane between batches.
final class Lane: @unchecked Sendable {
    let slots: RebuildSlots
    let keys: PersonKeys
    let valuesInMemory: Int

    private var cases: [String: CaseFold] = [:]
    /// Cases dropped from memory (written to the slots first): read back when they come again.
    private var dropped: Set<String> = []
    private var coordinators: [String: StatusRecord] = [:]
    private var workload: [String: [String]] = [:]

    init(slots: RebuildSlots, keys: PersonKeys, valuesInMemory: Int) {
        self.slots = slots
        self.keys = keys
        self.valuesInMemory = valuesInMemory
    }

    /// Folds the lane's events of a batch, in log order.
    func fold(_ events: [StoredEvent]) throws {
        for event in events {
            let isCase = event.streamHasPrefix("case-") && event.streamBytes.count > 5
            let isCoordinator = !isCase && event.streamHasPrefix("coordinator-") && event.streamBytes.count > 12
            guard isCase || isCoordinator else { continue }  // no read model keeps other streams
            guard let decoded = try? DomainEvent.decode(event, keys: keys) else { throw PassStopped() }
            let stream = event.stream
            if isCase {
                if !dropped.isEmpty, cases[stream] == nil, dropped.contains(stream) { cases[stream] = try readBack(stream) }
                cases[stream, default: CaseFold()].apply(decoded, event)
                if case .coordinatorAppointed(let e) = decoded {
                    CoordinatorWorkloadProjection.insert(stream, into: &workload["coordinator-" + e.coordinatorId, default: []])
                }
                if cases.count > valuesInMemory { try dropOldest() }
            } else {
                try CaseStatusProjection().apply(event, decoded: decoded, to: &coordinators[stream])
            }
        }
    }

    /// Every changed case, encoded for both read models, now marked unchanged.
    private func encodeChanges() -> [(name: String, changes: [(key: String, bytes: [UInt8]?)])] {
        var status: [(key: String, bytes: [UInt8]?)] = [], deviations: [(key: String, bytes: [UInt8]?)] = []
        for i in cases.indices where cases.values[i].changed {
            let (key, fold) = cases[i]
            status.append((key, fold.statusRecord.compactBytes))
            deviations.append((key, fold.tracker.compactBytes))
            cases.values[i].changed = false
        }
        return [(CaseStatusProjection.name, status), (DeviationsProjection.name, deviations)]
    }

    /// Writes every changed case.
    private func writeChanges() throws { try slots.write(encodeChanges()) }

    /// Writes the changed cases and drops the half folded longest ago.
    private func dropOldest() throws {
        try writeChanges()
        let cutoff = cases.values.map(\.touched).sorted()[cases.count / 2]
        for (key, fold) in cases where fold.touched < cutoff { dropped.insert(key) }
        cases = cases.filter { $0.value.touched >= cutoff }
    }

    /// A dropped case, read back from the new slots.
    private func readBack(_ stream: String) throws -> CaseFold? {
        guard let tracker = try slots.value(DeviationsProjection.name, key: stream, { try DeviationTracker(compactBytes: $0) }),
              let version = try slots.value(CaseStatusProjection.name, key: stream, { bytes in
                  var r = CompactReader(bytes)
                  return try r.read(UInt64.self)  // the record's first field
              })
        else { return nil }
        return CaseFold(version: version, tracker: tracker)
    }

    /// Writes what is left of every lane (the workload merged: a coordinator's
    /// cases may lie in several lanes) and swaps the three new slots in.
    func finish(merging others: ArraySlice<Lane>, through head: UInt64) throws {
        let lanes = [self] + others
        let encoded = PerLane<[(name: String, changes: [(key: String, bytes: [UInt8]?)])]>(count: lanes.count)
        DispatchQueue.concurrentPerform(iterations: lanes.count) { i in encoded[i] = lanes[i].encodeChanges() }  // the bulk of the writing
        try slots.write(encoded.all.flatMap { $0 })
        var workload = self.workload
        for lane in others {
            for (coordinator, cases) in lane.workload {
                for stream in cases { CoordinatorWorkloadProjection.insert(stream, into: &workload[coordinator, default: []]) }
            }
        }
        try slots.write([
            (CaseStatusProjection.name, coordinators.map { ($0.key, $0.value.compactBytes) }),
            (CoordinatorWorkloadProjection.name, workload.map { ($0.key, $0.value.compactBytes) }),
        ])
        for name in ReadModels.names { try slots.finish(name, position: head, failure: nil) }
    }
}
