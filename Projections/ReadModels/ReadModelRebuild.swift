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

    /// Rebuilds all three, then catches each up with what was appended meanwhile.
    ///
    /// - One cursor reads the log in log order, a batch of events a read
    ///   transaction, each event lent where it lies (``StoredEvent``).
    /// - Each case keeps one state that both the case status and the deviations
    ///   are written from (a ``DeviationTracker`` holds the case's ``CaseState``),
    ///   so each event is decoded once and folded once.
    /// - The cases are split into `lanes` by a hash of their stream's name, and
    ///   each lane folds its cases' events of the batch on a core of its own (a
    ///   case's events stay in one lane, in log order). Coordinator streams go to the first.
    /// - Each read model is written into its inactive slot and swapped in
    ///   (``RebuildSlots``).
    ///
    /// Memory: a case's state is held until the end of the pass, so a pass
    /// takes at most `casesInMemory` cases (about 7 KB each in memory: 26,000
    /// are about 190 MB; the peak of a rebuild is about 40 MB more). A log
    /// with more cases is read in as many passes as that needs, each for a part
    /// of the cases (by the same hash); the coordinators and their workloads,
    /// which are few, stay in memory throughout.
    ///
    /// An event that does not decode ends the pass: each read model is then
    /// rebuilt on its own (``ProjectionRunner/rebuild(_:valuesInMemory:progress:)``),
    /// which stops it exactly there, as catch-up does, and leaves the others whole.
    @discardableResult
    public static func rebuild(_ runner: ProjectionRunner, casesInMemory: Int = 26_000, lanes laneCount: Int = 2, batchSize: Int = 1 << 17,
                               progress: (UInt64) -> Void = { _ in }) throws -> [String: Checkpoint] {
        let head = try runner.log.head().position
        let slots = try RebuildSlots(runner.views, names: names)
        let caseCount = try runner.log.streams(prefix: "case-").count
        let parts = max(1, (caseCount + caseCount / 50 + casesInMemory - 1) / max(casesInMemory, 1))  // 2 % spare: the hash splits about evenly
        let laneCount = max(laneCount, 1)
        var coordinators: [String: StatusRecord] = [:]
        var workload: [String: [String]] = [:]
        do {
            for part in 0..<parts {
                let lanes = (0..<laneCount).map { _ in Lane(keys: runner.log.personKeys) }
                var routed = Array(repeating: [StoredEvent](), count: laneCount)
                try runner.log.scan(from: 1, through: head, batchSize: batchSize) { batch in
                    for event in batch {
                        guard let (eventPart, lane) = route(event, parts: parts, lanes: laneCount), eventPart == part else { continue }
                        routed[lane].append(event)
                    }
                    try foldConcurrently(routed, into: lanes)
                    for i in routed.indices { routed[i].removeAll(keepingCapacity: true) }
                    progress((UInt64(part) * head + batch.last!.position) / UInt64(parts))
                }
                try slots.writingUnsynced { try write(lanes, to: slots, appending: parts == 1) }
                for lane in lanes {
                    coordinators.merge(lane.coordinators) { _, new in new }
                    for (coordinator, cases) in lane.workload {
                        for stream in cases { CoordinatorWorkloadProjection.insert(stream, into: &workload[coordinator, default: []]) }
                    }
                }
            }
        } catch is PassStopped {
            return try eachOnItsOwn { try runner.rebuild($0, progress: progress) }
        }
        try slots.write([
            (CaseStatusProjection.name, coordinators.map { ($0.key, $0.value.compactBytes) }),
            (CoordinatorWorkloadProjection.name, workload.map { ($0.key, $0.value.compactBytes) }),
        ])
        for name in names { try slots.finish(name, position: head, failure: nil) }
        return try eachOnItsOwn { try runner.catchUp($0) }
    }

    /// `body` run for each of the three read models, by name.
    private static func eachOnItsOwn(_ body: (any Projection) throws -> Checkpoint) throws -> [String: Checkpoint] {
        let all: [any Projection] = [CaseStatusProjection(), DeviationsProjection(), CoordinatorWorkloadProjection()]
        return Dictionary(uniqueKeysWithValues: try all.map { ($0.name, try body($0)) })
    }

    /// The pass and the lane of an event, by a hash of a case stream's name
    /// (FNV-1a); a coordinator stream's are the first; nil for a stream no
    /// read model keeps.
    static func route(_ event: StoredEvent, parts: Int, lanes: Int) -> (part: Int, lane: Int)? {
        if event.streamHasPrefix("case-"), event.streamBytes.count > 5 {
            var hash: UInt32 = 2_166_136_261
            for byte in event.streamBytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            return (Int(hash % UInt32(parts)), Int(hash / UInt32(parts) % UInt32(lanes)))
        }
        if event.streamHasPrefix("coordinator-"), event.streamBytes.count > 12 { return (0, 0) }
        return nil
    }

    /// Writes every lane's cases to both read models' new slots in the order
    /// of their keys, 2,000 a transaction (so that neither the encoded values
    /// nor LMDB's dirty pages pile up): each chunk encoded by the lanes at once
    /// (the encoding is most of the work), then written by one (LMDB takes one
    /// writer at a time). In key order, a page is filled before the next; with
    /// `appending` (the pass is the only one, so every key is past the slot's
    /// last) without a search of the tree.
    private static func write(_ lanes: [Lane], to slots: RebuildSlots, appending: Bool) throws {
        let keys = lanes.indices.flatMap { i in lanes[i].streams.indices.map { (key: lanes[i].streams[$0], lane: i, index: $0) } }
            .sorted { $0.key < $1.key }
        for start in stride(from: 0, to: keys.count, by: 2_000) {
            let chunk = keys[start..<min(start + 2_000, keys.count)]
            let encoded = PerLane<[(at: Int, status: [UInt8], tracker: [UInt8])]>(count: lanes.count)
            DispatchQueue.concurrentPerform(iterations: lanes.count) { i in
                encoded[i] = chunk.indices.filter { chunk[$0].lane == i }.map { at in
                    let values = lanes[i].folds[chunk[at].index].encoded
                    return (at, values.status, values.tracker)
                }
            }
            var status = [(key: String, bytes: [UInt8])](), deviations = [(key: String, bytes: [UInt8])]()
            for (at, statusBytes, trackerBytes) in encoded.all.joined().sorted(by: { $0.at < $1.at }) {
                status.append((keys[at].key, statusBytes))
                deviations.append((keys[at].key, trackerBytes))
            }
            if appending {
                try slots.append([(CaseStatusProjection.name, status), (DeviationsProjection.name, deviations)])
            } else {
                try slots.write([(CaseStatusProjection.name, status.map { ($0.key, $0.bytes) }),
                                 (DeviationsProjection.name, deviations.map { ($0.key, $0.bytes) })])
            }
        }
        for lane in lanes { lane.dropCases() }
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

    mutating func apply(_ decoded: DomainEvent, _ event: StoredEvent) {
        version = event.version
        tracker.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealedSlot)
    }

    var statusRecord: StatusRecord { StatusRecord(version: version, caseState: tracker.state) }

    /// The compact bytes of ``statusRecord`` and of the tracker, the state
    /// encoded once for both (it is most of either).
    var encoded: (status: [UInt8], tracker: [UInt8]) {
        var tracker = CompactWriter()
        tracker.write(self.tracker.state)
        let state = tracker.bytes.count
        self.tracker.writeAfterState(to: &tracker)
        var status = CompactWriter()
        status.write(version)  // StatusRecord: version, caseState?, coordinator?
        status.bytes.append(1)
        status.bytes.append(contentsOf: tracker.bytes[..<state])
        status.bytes.append(0)
        return (status.bytes, tracker.bytes)
    }
}

/// One lane of a pass: the cases it folds, the coordinators (the first lane's),
/// and the workload of its cases' appointments. Used by one thread at a time:
/// the pass waits for every lane between batches.
final class Lane: @unchecked Sendable {
    let keys: PersonKeys
    /// The lane's cases: each stream's place in ``folds``, looked up once an
    /// event (the states themselves lie in an array, mutated where they lie).
    private var place: [String: Int] = [:]
    private(set) var streams: [String] = []
    private(set) var folds: [CaseFold] = []
    private(set) var coordinators: [String: StatusRecord] = [:]
    private(set) var workload: [String: [String]] = [:]
    /// For each case, its group in the batch being folded (-1: none yet).
    private var groupOfCase: [Int] = []

    init(keys: PersonKeys) { self.keys = keys }

    /// Folds the lane's events of a batch: each case's events together, in
    /// log order, so that its state is looked up once a batch and stays in the
    /// cache while they fold (in log order every event would touch another
    /// case's state, cold). Cases do not depend on each other, so the order
    /// across them does not matter.
    func fold(_ events: [StoredEvent]) throws {
        var groups: [Int] = []  // the cases of the batch, in the order first met
        var counts: [Int] = []
        var group = [Int](repeating: -1, count: events.count)
        for i in events.indices {
            let event = events[i]
            if event.streamHasPrefix("case-") {
                let stream = event.stream
                let index: Int
                if let known = place[stream] {
                    index = known
                } else {
                    index = folds.count
                    place[stream] = index
                    streams.append(stream)
                    folds.append(CaseFold())
                    groupOfCase.append(-1)
                }
                if groupOfCase[index] < 0 {
                    groupOfCase[index] = groups.count
                    groups.append(index)
                    counts.append(0)
                }
                group[i] = groupOfCase[index]
                counts[group[i]] += 1
            } else {
                try CaseStatusProjection().apply(event, decoded: try decode(event), to: &coordinators[event.stream])
            }
        }
        // The events' indices ordered by case, each case's in log order (a counting sort).
        var start = [Int](repeating: 0, count: counts.count + 1)
        for g in counts.indices { start[g + 1] = start[g] + counts[g] }
        var order = [Int](repeating: 0, count: start[counts.count])
        var next = start
        for i in events.indices where group[i] >= 0 {
            order[next[group[i]]] = i
            next[group[i]] += 1
        }
        for g in groups.indices {
            let index = groups[g]
            groupOfCase[index] = -1
            for i in order[start[g]..<start[g + 1]] {
                let event = events[i]
                let decoded = try decode(event)
                folds[index].apply(decoded, event)
                if case .coordinatorAppointed(let e) = decoded {
                    CoordinatorWorkloadProjection.insert(streams[index], into: &workload["coordinator-" + e.coordinatorId, default: []])
                }
            }
        }
    }

    private func decode(_ event: StoredEvent) throws -> DomainEvent {
        guard let decoded = try? DomainEvent.decode(event, keys: keys) else { throw PassStopped() }
        return decoded
    }

    /// Lets go of the cases (written).
    func dropCases() {
        place = [:]
        streams = []
        folds = []
        groupOfCase = []
    }
}
