import LMDB

/// One line of an import: the event it holds, or why it could not be read.
public struct ImportItem: Sendable {
    /// Line number in the input, from 1.
    public var line: Int
    public var event: Result<ProposedEvent, any Error>

    public init(line: Int, event: Result<ProposedEvent, any Error>) {
        self.line = line
        self.event = event
    }
}

/// What an import did.
public struct ImportSummary: Hashable, Sendable {
    /// Events written.
    public var imported = 0
    /// Events whose id was in the log already with the same content.
    public var skipped = 0
    /// The position of the last line's event (0 when none).
    public var lastPosition: UInt64 = 0

    public init() {}
}

/// An import stopped at `line`. Without `--atomic`, the lines before it are
/// committed (`committed` says what they did); with it, nothing is.
public struct ImportFailure: Error, CustomStringConvertible {
    public var line: Int
    public var error: any Error
    public var committed: ImportSummary

    public var description: String { "line \(line): \(error)" }
}

extension EventStore {
    /// Imports `items` in order, `batchSize` events to a write transaction.
    ///
    /// At the first line that is unreadable or refused, the events before it are
    /// committed (in whole batches, and the part of its own batch before it) and
    /// ``ImportFailure`` names the line; nothing from that line on is written.
    /// Because an event id is written once, running the same import again after a
    /// fix (or after a crash) resumes where it stopped.
    ///
    /// With `atomic`, everything goes in one transaction: all lines or none.
    ///
    /// - Parameter progress: called after each committed batch with the number of
    ///   lines done so far.
    public func importEvents(
        _ items: some Sequence<ImportItem>, batchSize: Int = 1000, atomic: Bool = false,
        policy: inout some AppendPolicy, progress: (Int) -> Void = { _ in }
    ) throws -> ImportSummary {
        try importEvents(items, batchSize: batchSize, atomic: atomic, policy: &policy, deferredIDLimit: Self.deferredIDLimit, progress: progress)
    }

    /// ``importEvents(_:batchSize:atomic:policy:progress:)``, putting the ids it
    /// defers into the index whenever it holds `deferredIDLimit` of them.
    func importEvents(
        _ items: some Sequence<ImportItem>, batchSize: Int, atomic: Bool,
        policy: inout some AppendPolicy, deferredIDLimit: Int, progress: (Int) -> Void
    ) throws -> ImportSummary {
        var summary = ImportSummary()
        var pending: [ProposedEvent] = []
        var lines: [Int] = []
        var done = 0
        let limit = atomic ? Int.max : max(1, batchSize)
        // Batch by batch, the ids go into the id index in bulk (one transaction
        // has nothing to gain from it).
        let deferring = !atomic
        var deferred: DeferredEventIDs?

        func tally(_ outcomes: [Outcome]) {
            for outcome in outcomes {
                if outcome.written { summary.imported += 1 } else { summary.skipped += 1 }
                summary.lastPosition = outcome.position
            }
            done += outcomes.count
        }

        func flush() throws {
            guard !pending.isEmpty else { return }
            defer { pending.removeAll(keepingCapacity: true); lines.removeAll(keepingCapacity: true) }
            do {
                tally(try append(pending, policy: &policy, deferring: deferring, deferred: &deferred))
                progress(done)
                if (deferred?.ids.count ?? 0) >= deferredIDLimit { try flushDeferredIDs(&deferred) }
            } catch let failure as AppendFailure {
                if !atomic, failure.index > 0 {
                    tally(try append(Array(pending[..<failure.index]), policy: &policy, deferring: deferring, deferred: &deferred))
                    progress(done)
                }
                throw ImportFailure(line: lines[failure.index], error: failure.error, committed: atomic ? ImportSummary() : summary)
            } catch let error as LMDBError where error.code == -30788 /* MDB_TXN_FULL */ {
                throw ImportFailure(line: lines.first ?? 0, error: LogError(.batchTooLarge, "the import is too large for one transaction; import without --atomic"), committed: ImportSummary())
            }
        }

        do {
            for item in items {
                switch item.event {
                case .failure(let error):
                    if atomic {
                        throw ImportFailure(line: item.line, error: error, committed: ImportSummary())
                    }
                    try flush()
                    throw ImportFailure(line: item.line, error: error, committed: summary)
                case .success(let event):
                    pending.append(event)
                    lines.append(item.line)
                    if pending.count >= limit { try flush() }
                }
            }
            try flush()
        } catch {
            try? flushDeferredIDs(&deferred)  // else the next append puts them in, from the log
            throw error
        }
        try flushDeferredIDs(&deferred)
        return summary
    }
}
