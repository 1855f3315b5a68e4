import BinaryCodable
import CPrefetch
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
    /// - One cursor reads the log in log order, a batch of records a read
    ///   transaction, each lent where it lies. The cores read the records
    ///   (``StoredEvent``), each a share of the batch, and route each event to
    ///   its lane.
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
        let caseCount = try runner.log.streamCount(prefix: "case-")
        let parts = max(1, (caseCount + caseCount / 50 + casesInMemory - 1) / max(casesInMemory, 1))  // 2 % spare: the hash splits about evenly
        let laneCount = max(laneCount, 1)
        var coordinators: [String: StatusRecord] = [:]
        var workload: [String: [String]] = [:]
        do {
            for part in 0..<parts {
                let lanes = (0..<laneCount).map { _ in Lane(keys: runner.log.personKeys) }
                let shares = Shares(count: laneCount)
                try runner.log.scanRecords(from: 1, through: head, batchSize: batchSize) { batch in
                    try routeConcurrently(batch, part: part, parts: parts, into: shares)
                    try foldConcurrently(shares, into: lanes)
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
            let hash = fnv1a(event.streamBytes)
            return (Int(hash % UInt32(parts)), Int(hash / UInt32(parts) % UInt32(lanes)))
        }
        if event.streamHasPrefix("coordinator-"), event.streamBytes.count > 12 { return (0, 0) }
        return nil
    }

    /// Writes every lane's cases to both read models' new slots in the order
    /// of their keys, 1,000 a transaction (so that neither the encoded values
    /// nor LMDB's dirty pages pile up). While one thread writes a chunk (LMDB
    /// takes one writer at a time), the lanes encode the next (the encoding is
    /// most of the work) and let go of the states they encoded. In key order,
    /// a page is filled before the next; with `appending` (the pass is the
    /// only one, so every key is past the slot's last) without a search of the tree.
    private static func write(_ lanes: [Lane], to slots: RebuildSlots, appending: Bool) throws {
        let keys = lanes.indices.flatMap { i in lanes[i].streams.indices.map { (key: lanes[i].streams[$0], lane: i, index: $0) } }
            .sorted { $0.key < $1.key }
        // Each chunk's cases, by lane: their places in the chunk and in the lane.
        let chunks = stride(from: 0, to: keys.count, by: 1_000).map { start in
            let chunk = start..<min(start + 1_000, keys.count)
            return lanes.indices.map { i in chunk.filter { keys[$0].lane == i }.map { (at: $0, index: keys[$0].index) } }
        }
        let written = Outcome()
        for n in -1..<chunks.count {  // round n writes chunk n while the lanes encode n + 1 (round -1 only encodes)
            let values = lanes.flatMap { $0.takeEncoded() }.sorted { $0.at < $1.at }
            let encoding = n + 1 < chunks.count ? lanes.count : 0
            DispatchQueue.concurrentPerform(iterations: 1 + encoding) { i in
                if i < encoding { return lanes[i].encode(chunks[n + 1][i]) }
                guard !values.isEmpty else { return }
                let status = values.map { (key: keys[$0.at].key, bytes: $0.status) }
                let deviations = values.map { (key: keys[$0.at].key, bytes: $0.tracker) }
                written.run {
                    if appending {
                        try slots.append([(CaseStatusProjection.name, status), (DeviationsProjection.name, deviations)])
                    } else {
                        try slots.write([(CaseStatusProjection.name, status.map { ($0.key, $0.bytes) }),
                                         (DeviationsProjection.name, deviations.map { ($0.key, $0.bytes) })])
                    }
                }
            }
            if let error = written.error { throw error }
        }
        for lane in lanes { lane.dropCases() }
    }

    /// Reads a batch's records on every core, each a contiguous share of
    /// them, and routes the events of this pass to their lanes; throws the
    /// first record that does not read (in log order).
    private static func routeConcurrently(_ batch: [LentRecord], part: Int, parts: Int, into shares: Shares) throws {
        let lanes = shares.count
        let size = (batch.count + lanes - 1) / lanes
        let damaged = (0..<lanes).map { _ in Outcome() }
        DispatchQueue.concurrentPerform(iterations: lanes) { share in
            damaged[share].run {
                for record in batch[min(share * size, batch.count)..<min(share * size + size, batch.count)] {
                    let event = try StoredEvent(record)
                    guard let (eventPart, lane) = route(event, parts: parts, lanes: lanes), eventPart == part else { continue }
                    shares[share, lane].append(event)
                }
            }
        }
        if let error = damaged.lazy.compactMap(\.error).first { throw error }
    }

    /// Each lane folds its events of the batch (from every share, in order),
    /// all lanes at once; the first error is thrown.
    private static func foldConcurrently(_ shares: Shares, into lanes: [Lane]) throws {
        let stopped = lanes.map { _ in Outcome() }
        DispatchQueue.concurrentPerform(iterations: lanes.count) { lane in
            stopped[lane].run { try lanes[lane].fold((0..<shares.count).map { shares[$0, lane] }) }
            for share in 0..<shares.count { shares[share, lane].removeAll(keepingCapacity: true) }
        }
        if let error = stopped.lazy.compactMap(\.error).first { throw error }
    }
}

/// A batch's events by the share of the batch they were read in and the lane
/// they go to: the thread of a share appends to its own row, a lane's thread
/// then takes its column (so no two threads touch one array at a time; the
/// arrays keep their capacity from batch to batch).
final class Shares: @unchecked Sendable {
    let count: Int
    private let events: UnsafeMutableBufferPointer<[StoredEvent]>

    init(count: Int) {
        self.count = count
        events = .allocate(capacity: count * count)
        events.initialize(repeating: [])
    }

    deinit {
        _ = events.deinitialize()
        events.deallocate()
    }

    subscript(share: Int, lane: Int) -> [StoredEvent] {
        get { events[share * count + lane] }
        _modify { yield &events[share * count + lane] }
    }
}

/// What became of work done on another thread: the error it threw, if any
/// (read once the work is done).
private final class Outcome: @unchecked Sendable {
    private(set) var error: (any Error)?
    func run(_ body: () throws -> Void) {
        do { try body() } catch { self.error = error }
    }
}

/// An event did not decode: the pass gives way to each read model's own rebuild.
struct PassStopped: Error {}

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

    /// The compact bytes of the case's `StatusRecord` (its version and state)
    /// and of the tracker, the state
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
/// the pass waits for every lane to fold a batch, and to encode a chunk.
final class Lane: @unchecked Sendable {
    let keys: PersonKeys
    /// The lane's cases: each stream's place in ``folds``, looked up once an
    /// event (the states themselves lie in an array, mutated where they lie).
    private var place = CaseTable()
    private(set) var streams: [String] = []
    private(set) var folds: [CaseFold] = []
    private(set) var coordinators: [String: StatusRecord] = [:]
    private(set) var workload: [String: [String]] = [:]
    /// For each case, its group in the batch being folded (-1: none yet).
    private var groupOfCase: [Int] = []
    /// The values of the chunk last encoded (``encode(_:)``).
    private var encoded: [(at: Int, status: [UInt8], tracker: [UInt8])] = []

    init(keys: PersonKeys) { self.keys = keys }

    /// Folds the lane's events of a batch, share after share (in log order):
    /// each case's events together, in
    /// log order, so that its state is looked up once a batch and stays in the
    /// cache while they fold (in log order every event would touch another
    /// case's state, cold). Cases do not depend on each other, so the order
    /// across them does not matter. The events are copied in that order (a
    /// counting sort) and read in it, each asking for the bytes of one a few
    /// places on: their records lie scattered in the map.
    func fold(_ shares: [[StoredEvent]]) throws {
        var groups: [Int] = []  // the cases of the batch, in the order first met
        var counts: [Int] = []
        var group = [Int](repeating: -1, count: shares.reduce(0) { $0 + $1.count })
        var i = 0  // the event's place in the batch's events, share after share
        for events in shares {
            for k in events.indices {
                if k + Self.prefetchDistance < events.count { iplog_prefetch(events[k + Self.prefetchDistance].streamBytes.baseAddress) }
                if let index = try caseIndex(of: events[k]) {
                    if groupOfCase[index] < 0 {
                        groupOfCase[index] = groups.count
                        groups.append(index)
                        counts.append(0)
                    }
                    group[i] = groupOfCase[index]
                    counts[group[i]] += 1
                }
                i += 1
            }
        }
        var start = [Int](repeating: 0, count: counts.count + 1)
        for g in counts.indices { start[g + 1] = start[g] + counts[g] }
        var next = start
        let ordered = [StoredEvent](unsafeUninitializedCapacity: start[counts.count]) { buffer, count in
            var i = 0
            for events in shares {
                for event in events {
                    if group[i] >= 0 {
                        (buffer.baseAddress! + next[group[i]]).initialize(to: event)
                        next[group[i]] += 1
                    }
                    i += 1
                }
            }
            count = start[counts.count]
        }
        for g in groups.indices {
            let index = groups[g]
            groupOfCase[index] = -1
            for i in start[g]..<start[g + 1] {
                if i + Self.prefetchDistance < ordered.count { iplog_prefetch(ordered[i + Self.prefetchDistance].typeBytes.baseAddress) }
                let event = ordered[i]
                let decoded = try decode(event)
                folds[index].apply(decoded, event)
                if case .coordinatorAppointed(let e) = decoded {
                    CoordinatorWorkloadProjection.insert(streams[index], into: &workload["coordinator-" + e.coordinatorId, default: []])
                }
            }
        }
    }

    /// The lane's index of the case of `event`, met now or before; nil for
    /// an event of a coordinator's stream, which is folded here and now.
    private func caseIndex(of event: StoredEvent) throws -> Int? {
        guard event.streamHasPrefix("case-") else {
            try CaseStatusProjection().apply(event, decoded: try decode(event), to: &coordinators[event.stream])
            return nil
        }
        let (index, new) = place.index(of: event.streamBytes)
        if new {
            streams.append(event.stream)
            folds.append(CaseFold())
            groupOfCase.append(-1)
        }
        return index
    }

    /// How many events ahead the fold asks for a record's bytes (measured:
    /// 1–4 alike, 16 too far).
    static let prefetchDistance = 2

    private func decode(_ event: StoredEvent) throws -> DomainEvent {
        guard let decoded = try? DomainEvent.decode(event, keys: keys) else { throw PassStopped() }
        return decoded
    }

    /// Encodes the cases at `entries` (each with its place in the chunk) for
    /// ``takeEncoded()``, and lets go of their states.
    func encode(_ entries: [(at: Int, index: Int)]) {
        encoded = entries.map { entry in
            let values = folds[entry.index].encoded
            folds[entry.index] = CaseFold()
            return (entry.at, values.status, values.tracker)
        }
    }

    /// The values ``encode(_:)`` made, handed over once.
    func takeEncoded() -> [(at: Int, status: [UInt8], tracker: [UInt8])] {
        defer { encoded = [] }
        return encoded
    }

    /// Lets go of the cases (written).
    func dropCases() {
        place = CaseTable()
        streams = []
        folds = []
        groupOfCase = []
    }
}

/// A lane's cases by their stream's name, found from the name's bytes where
/// the log lends them: no string is made or hashed for a case already met
/// (a dictionary of strings was a tenth of a lane's time). Open addressing,
/// FNV-1a mixed by a multiplication (the lanes split the cases by FNV-1a
/// itself, so its low bits alone would crowd one half of the table).
struct CaseTable {
    /// Each a case's index, or -1; a power of two of them, at most half used.
    private var slots = [Int32](repeating: -1, count: 1 << 10)
    /// The names, one after another, and where each ends.
    private var names: [UInt8] = []
    private var ends: [Int] = []

    /// The index of the case named `name` (the cases are numbered in the
    /// order first met), and whether it is new.
    mutating func index(of name: UnsafeRawBufferPointer) -> (index: Int, new: Bool) {
        var slot = Self.slot(of: name, in: slots.count)
        while slots[slot] >= 0 {
            let index = Int(slots[slot])
            if has(index, name) { return (index, false) }
            slot = (slot + 1) & (slots.count - 1)
        }
        let index = ends.count
        names.append(contentsOf: name)
        ends.append(names.count)
        slots[slot] = Int32(index)
        if ends.count * 2 > slots.count { grow() }
        return (index, true)
    }

    private func has(_ index: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        let start = index == 0 ? 0 : ends[index - 1]
        guard ends[index] - start == name.count else { return false }
        return names.withUnsafeBufferPointer { names in  // byte by byte: a call of memcmp costs more than a dozen bytes
            for i in name.indices where names[start + i] != name[i] { return false }
            return true
        }
    }

    private static func slot(of name: UnsafeRawBufferPointer, in count: Int) -> Int {
        Int((fnv1a(name) &* 0x9E37_79B1) >> UInt32(32 - count.trailingZeroBitCount))
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        names.withUnsafeBytes { all in
            var start = 0
            for (index, end) in ends.enumerated() {
                var slot = Self.slot(of: UnsafeRawBufferPointer(rebasing: all[start..<end]), in: slots.count)
                while slots[slot] >= 0 { slot = (slot + 1) & (slots.count - 1) }
                slots[slot] = Int32(index)
                start = end
            }
        }
    }
}

/// The FNV-1a hash of a stream's name: what routes a case to its pass and
/// lane, and places it in its lane's ``CaseTable``.
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var hash: UInt32 = 2_166_136_261
    for byte in bytes { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
    return hash
}
