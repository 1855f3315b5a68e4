import Deviations
import Dispatch
import Domain
import EventLog
import Foundation
import Synchronization

/// The appends of a store that the CLI and the service share: each request's
/// events are checked against the caller's role before they reach the log, and
/// against the caller's scope and the rules inside the write transaction.
///
/// The service appends through one writer thread with group commit: requests
/// that arrive while a commit is under way wait in a queue, and the writer
/// takes them all into the next write transaction. Each request is all or
/// nothing: one that is refused is answered with its refusal and the others
/// commit without it (the transaction is run again without it, so the rules of
/// the later requests see exactly the events that commit before them). One
/// commit, one sync; only then is any of them answered: nothing is
/// acknowledged before it is durable.
public final class Appends: Sendable {
    public let store: EventStore
    public let rules: AccessRules
    private let units: Set<String>?
    /// Called after each commit with the number of events it wrote and how long it took (seconds).
    private let onCommit: @Sendable (_ events: Int, _ requests: Int, _ seconds: Double) -> Void

    private struct Pending: Sendable {
        var events: [ProposedEvent]
        var caller: Caller
        var answer: @Sendable (Result<[EventStore.Outcome], any Error>) -> Void
    }

    private struct Queue: ~Copyable {
        var pending: [Pending] = []
        var stopping = false
        var running = false
    }

    private let queue = Mutex(Queue())
    /// The writer's policy, kept from group to group so that its cache of
    /// folded states serves the next append of a stream (only the writer thread uses it).
    private let writerState = WriterState()

    /// What only the writer thread touches (`run` and `commit` run nowhere else).
    private final class WriterState: @unchecked Sendable {
        var policy: DomainPolicy?
    }
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    /// The most events one transaction takes (a burst is split into groups of at most this many).
    public static let groupLimit = 2_000

    public init(store: EventStore, storePath: String,
                onCommit: @escaping @Sendable (_ events: Int, _ requests: Int, _ seconds: Double) -> Void = { _, _, _ in }) throws {
        self.store = store
        rules = try AccessRules.load(store: storePath)
        units = try DeviationConfig.load(store: storePath).units.map(Set.init)
        self.onCommit = onCommit
    }

    /// The role may append these types (403 otherwise); checked before the request is queued.
    public func checkRole(_ events: [ProposedEvent], caller: Caller) throws {
        for event in events { try rules.checkAppend(event.type, by: caller) }
    }

    /// Appends `events`, all or nothing, in the caller's name, on this thread
    /// (the CLI: one request, one transaction).
    public func appendNow(_ events: [ProposedEvent], caller: Caller, today: BusinessDate = .today()) throws -> [EventStore.Outcome] {
        try checkRole(events, caller: caller)
        var policy = self.policy(today: today, callers: [caller])
        return try store.append(events.map { stamped($0, by: caller) }, policy: &policy)
    }

    /// An import of JSON Lines (`iplog import`): the lines in batches, each a
    /// transaction; the lines before the first refused one are committed (all
    /// or nothing with `atomic`); `lenient` checks shape but not the rules (for
    /// history migrated from another system). The store's operator only: the
    /// lines keep the actors they name.
    public func importLines(_ items: some Sequence<ImportItem>, batchSize: Int, atomic: Bool, lenient: Bool, caller: Caller,
                            today: BusinessDate = .today(), progress: (Int) -> Void = { _ in }) throws -> ImportSummary {
        guard caller.role == nil else { throw AccessDenied.forbidden("an import of a file is the store operator's; the service imports through POST /v1/import") }
        var policy = DomainPolicy(today: today, lenient: lenient, units: units)
        return try store.importEvents(items, batchSize: batchSize, atomic: atomic, policy: &policy, progress: progress)
    }

    /// Appends `events`, all or nothing, in the caller's name, through the
    /// writer thread with the requests that arrive with it. Returns once they
    /// are durable.
    public func append(_ events: [ProposedEvent], caller: Caller) async throws -> [EventStore.Outcome] {
        try checkRole(events, caller: caller)
        let stampedEvents = events.map { stamped($0, by: caller) }
        return try await withCheckedThrowingContinuation { continuation in
            let accepted = queue.withLock { queue -> Bool in
                guard !queue.stopping else { return false }
                queue.pending.append(Pending(events: stampedEvents, caller: caller, answer: { continuation.resume(with: $0) }))
                return true
            }
            if accepted {
                wake.signal()
            } else {
                continuation.resume(throwing: LogError(.damaged, "the service is stopping; nothing was written"))
            }
        }
    }

    /// How many requests wait for the writer.
    public var queued: Int { queue.withLock { $0.pending.count } }

    /// Starts the writer thread.
    public func start() {
        let start = queue.withLock { queue -> Bool in
            guard !queue.running else { return false }
            queue.running = true
            return true
        }
        guard start else { return }
        let thread = Thread { [self] in run() }
        thread.name = "iplog-writer"
        thread.start()
    }

    /// Lets the writer finish what is queued, then stops it.
    public func stop() {
        let running = queue.withLock { queue -> Bool in
            queue.stopping = true
            return queue.running
        }
        guard running else { return }
        wake.signal()
        stopped.wait()
    }

    /// The recorded actor is the caller's name, whatever the request said.
    private func stamped(_ event: ProposedEvent, by caller: Caller) -> ProposedEvent {
        var event = event
        event.actor = caller.name
        return event
    }

    private func policy(today: BusinessDate, callers: [Caller], reusing kept: DomainPolicy? = nil) -> DomainPolicy {
        var policy = kept ?? DomainPolicy(today: today, units: units)
        policy.today = today
        let byName = Dictionary(callers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        policy.scopeCheck = { event, state in
            guard let caller = event.actor.flatMap({ byName[$0] }) else { return }
            try AccessRules.checkAppendScope(event.stream, state: state, by: caller)
        }
        return policy
    }

    private func run() {
        while true {
            wake.wait()
            let (group, stop) = queue.withLock { queue -> ([Pending], Bool) in
                var taken: [Pending] = []
                var count = 0
                while let first = queue.pending.first, taken.isEmpty || count + first.events.count <= Self.groupLimit {
                    taken.append(queue.pending.removeFirst())
                    count += first.events.count
                }
                if !queue.pending.isEmpty { wake.signal() }  // the rest in the next group
                return (taken, queue.stopping && queue.pending.isEmpty)
            }
            if !group.isEmpty { commit(group) }
            if stop {
                stopped.signal()
                return
            }
        }
    }

    /// One write transaction for the group; a refused request is taken out and the rest run again.
    private func commit(_ group: [Pending]) {
        let began = DispatchTime.now().uptimeNanoseconds
        var remaining = Array(group.indices)
        var answers: [Int: Result<[EventStore.Outcome], any Error>] = [:]
        // Callers with the same name are one user: the scope is the user's.
        var policy = self.policy(today: .today(), callers: group.map(\.caller), reusing: writerState.policy.take())
        defer { writerState.policy = policy }
        while !remaining.isEmpty {
            let batch = remaining.flatMap { group[$0].events }
            do {
                let outcomes = try store.append(batch, policy: &policy)
                var offset = 0
                for i in remaining {
                    answers[i] = .success(Array(outcomes[offset..<offset + group[i].events.count]))
                    offset += group[i].events.count
                }
                onCommit(outcomes.count, remaining.count, Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9)
                break
            } catch let failure as AppendFailure where (0..<batch.count).contains(failure.index) {
                // The request that holds the refused event is answered with it; the others go again.
                var offset = 0
                for (n, i) in remaining.enumerated() {
                    let count = group[i].events.count
                    if failure.index < offset + count {
                        answers[i] = .failure(AppendFailure(index: failure.index - offset, error: failure.error))
                        remaining.remove(at: n)
                        break
                    }
                    offset += count
                }
            } catch {
                // Storage failed (a full disk, damage): nothing of the group was written.
                for i in remaining { answers[i] = .failure(error) }
                break
            }
        }
        for (i, pending) in group.enumerated() { pending.answer(answers[i]!) }
    }
}
