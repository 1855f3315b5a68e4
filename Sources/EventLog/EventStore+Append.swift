import Foundation
import JSON
import LMDB

/// Appending: the checks of each event, positions and versions, sealing, the
/// indexes, and the chain head, in one write transaction per batch.
extension EventStore {
    /// What became of one appended event.
    public struct Outcome: Hashable, Sendable {
        public var position: UInt64
        public var version: UInt64
        public var stream: String
        public var eventID: EventID
        /// False when the event id was in the log already with the same content:
        /// the append answered with the position it has.
        public var written: Bool
    }

    /// Appends `batch` in one write transaction: every event, or (when any is
    /// refused) none.
    ///
    /// Per event, in order: an event id already in the log answers with its
    /// position (same stream and content) or is refused (`duplicateEventId`);
    /// then `policy` checks it; then its expected version is checked. Positions
    /// are assigned inside the transaction, so commit order is position order.
    ///
    /// - Throws: ``AppendFailure`` naming the refused event (its `error` is a
    ///   ``LogError`` or the policy's error); ``LMDBError`` when storage fails.
    @discardableResult
    public func append(_ batch: [ProposedEvent], policy: inout some AppendPolicy) throws -> [Outcome] {
        var immediate: DeferredEventIDs?
        return try append(batch, policy: &policy, deferring: false, deferred: &immediate)
    }

    /// ``append(_:policy:)``, and with `deferring` the batch's event ids go into
    /// `deferred` instead of the event id index (an import's batches; see
    /// ``DeferredEventIDs``). Without it, ids an earlier import deferred are put
    /// into the index first.
    func append(
        _ batch: [ProposedEvent], policy: inout some AppendPolicy, deferring: Bool, deferred: inout DeferredEventIDs?
    ) throws -> [Outcome] {
        for (i, event) in batch.enumerated() {
            if let problem = Self.envelopeProblem(event) { throw AppendFailure(index: i, error: problem) }
        }
        let done: BatchWrite
        do {
            // The import's ids, read inside the transaction; out of scope (here
            // and in the batch) before they are added to, so that they are not
            // copied: an import's ids grow with every batch.
            let kept = deferred
            done = try Self.reportingFullDisk { try environment.write { txn in
                policy.beginBatch()
                var write = try BatchWrite(self, txn, batch: batch, kept: kept, deferring: deferring)
                for (i, event) in batch.enumerated() {
                    do {
                        try write.add(event, at: i, txn, policy: &policy)
                    } catch let error as LMDBError {
                        throw error  // Environment.write grows the map on mapFull and retries
                    } catch {
                        throw AppendFailure(index: i, error: error)
                    }
                }
                try write.beforeCommit(txn, policy: &policy)
                write.kept = nil
                return write
            } }
        }
        try afterCommit(done, deferred: &deferred)
        policy.didCommit()
        return done.outcomes
    }

    /// One batch inside its write transaction, step by step: ``init`` (the
    /// chain head and the event id index), ``add(_:at:_:policy:)`` for each
    /// event, and ``beforeCommit(_:policy:)``; after the commit,
    /// ``EventStore/afterCommit(_:deferred:)``.
    struct BatchWrite {
        let store: EventStore
        let batch: [ProposedEvent]
        /// The ids an import deferred, when this batch continues it (nil once
        /// the transaction is done, so that adding to them copies nothing).
        var kept: DeferredEventIDs?
        let deferring: Bool
        let allocator = KeyAllocator()
        var head: Head
        /// The event id index's high-water mark as stored (nil: complete).
        let mark: UInt64?
        /// The event id index is complete through this position.
        var indexed: UInt64
        /// The ids after `indexed` are the import's, kept in `kept`.
        let tailIsKept: Bool
        /// Versions of the streams this batch wrote.
        var heads: [String: UInt64]
        var written: [EventID: (index: Int, position: UInt64, version: UInt64)]
        var outcomes: [Outcome] = []

        /// Reads the chain head and checks it; brings the event id index up to
        /// the head unless its tail is an import's (`kept`).
        init(_ store: EventStore, _ txn: borrowing WriteTransaction, batch: [ProposedEvent], kept: DeferredEventIDs?, deferring: Bool) throws {
            self.store = store
            self.batch = batch
            self.kept = kept
            self.deferring = deferring
            head = try store.readHead(txn)
            try store.checkChainHead(txn, head)
            mark = try store.readIDsThrough(txn)
            let stored = mark ?? head.position
            indexed = stored
            tailIsKept = kept?.through == stored && kept?.head == head.position
            if !tailIsKept && stored < head.position {
                try store.catchUpEventIDs(txn, after: stored)
                indexed = head.position
            }
            heads = .init(minimumCapacity: batch.count)
            written = .init(minimumCapacity: batch.count)
            outcomes.reserveCapacity(batch.count)
        }

        /// One event: answered from an earlier one (in this batch or the log)
        /// with the same id, or admitted by the policy and written.
        mutating func add<P: AppendPolicy>(_ event: ProposedEvent, at index: Int, _ txn: borrowing WriteTransaction, policy: inout P) throws {
            if try answeredInBatch(event) { return }
            if let existing = try store.existingOutcome(txn, event, at: tailIsKept ? kept?.ids[event.eventID] : nil) {
                outcomes.append(existing)
                return
            }
            let current = try heads[event.stream] ?? store.readStreamVersion(txn, event.stream)
            let sealing = try policy.admit(event, streamVersion: current,
                                           log: LogView(store: store, transaction: txn.unsafeReference, batchHeads: heads, keys: allocator))
            try EventStore.checkExpected(event, current: current)
            try write(event, at: index, version: current + 1, sealing: sealing, txn)
        }

        /// An id this batch wrote already: the same event again is answered
        /// with its position; other content under it is refused.
        mutating func answeredInBatch(_ event: ProposedEvent) throws -> Bool {
            guard let earlier = written[event.eventID] else { return false }
            let first = batch[earlier.index]
            let same = first.stream == event.stream && first.type == event.type && first.occurredOn == event.occurredOn
                && first.packedPayload() == event.packedPayload()
            guard same else { throw EventStore.duplicateIDError(event) }
            outcomes.append(Outcome(position: earlier.position, version: earlier.version, stream: event.stream, eventID: event.eventID, written: false))
            return true
        }

        /// Packs the payload once (sealed when the policy asks and there is
        /// something to seal), encodes the record onto the chain, and indexes it.
        mutating func write(_ event: ProposedEvent, at index: Int, version: UInt64, sealing: Sealing?, _ txn: borrowing WriteTransaction) throws {
            var stored: [UInt8]
            var sealed: SealedValues?
            if let sealing {
                let (clear, strings) = event.packedPayload(sealing: sealing.fields)
                stored = clear
                if !strings.isEmpty {
                    sealed = try SealedValues.seal(strings, key: sealing.key, slot: sealing.slot, eventID: event.eventID)
                }
            } else {
                stored = event.packedPayload()
            }
            let position = head.position + 1
            let (record, hash) = RecordCodec.encode(
                position: position, version: version, event: event, packedPayload: stored,
                sealed: sealed, recordedAt: store.clock(), previousHash: head.hash)
            let positionKey = PositionKey(position: position)
            try txn.put(store.events, key: positionKey, value: record, flags: .append)
            try txn.put(store.streamIndex, key: EventStore.streamKey(event.stream, version: version), value: positionKey, flags: .noOverwrite)
            if !deferring {
                try txn.put(store.eventIDs, key: event.eventID, value: positionKey, flags: .noOverwrite)
            }
            head = Head(position: position, hash: hash)
            heads[event.stream] = version
            written[event.eventID] = (index, position, version)
            outcomes.append(Outcome(position: position, version: version, stream: event.stream, eventID: event.eventID, written: true))
        }

        /// The batch's last writes before the commit: the policy's state, the
        /// key counter (the key file synced first: the keys are on disk before
        /// any event sealed with them commits), erasures of keys born erased,
        /// the chain head, and the event id index's high-water mark.
        mutating func beforeCommit<P: AppendPolicy>(_ txn: borrowing WriteTransaction, policy: inout P) throws {
            for change in policy.endBatch() {
                if let value = change.value {
                    try txn.put(store.policyState, key: change.key, value: value)
                } else {
                    try txn.delete(store.policyState, key: change.key)
                }
            }
            if let next = allocator.next {
                if allocator.wroteKeys { try store.personKeys.sync() }
                try txn.put(store.main, key: KeyAllocator.nextKey, value: withUnsafeBytes(of: next.bigEndian) { Array($0) })
            }
            // Keys born erased (an imported case whose person was erased before its export):
            // recorded as erasures with the batch, destroyed once it has committed.
            for slot in allocator.toErase { try store.recordErasure(txn, slot: slot) }
            if !written.isEmpty {
                try txn.put(store.main, key: EventStore.headKey, value: bigEndianBytes(head.position) + head.hash)
            }
            if !deferring { indexed = head.position }  // this batch's ids are in
            if indexed < head.position {
                try txn.put(store.main, key: EventStore.idsThroughKey, value: bigEndianBytes(indexed))
            } else if mark != nil {
                _ = try txn.delete(store.main, key: EventStore.idsThroughKey)
            }
        }
    }

    /// After a batch's commit: keys born erased are destroyed in the key file,
    /// and an import's batch adds its ids to those it defers.
    private func afterCommit(_ done: BatchWrite, deferred: inout DeferredEventIDs?) throws {
        if !done.allocator.toErase.isEmpty { try finishKeyErasures() }
        if done.deferring {
            // Committed: the batch's ids join the import's (in place, not copied).
            if !done.tailIsKept { deferred = DeferredEventIDs(through: done.indexed) }
            for (id, event) in done.written { deferred!.ids[id] = event.position }
            deferred!.head = done.head.position
        }
    }

    /// Runs `body`, turning LMDB's "no space" errors into ``LogError/Code/diskFull``
    /// naming `what` was being written: LMDB writes the meta page last, so a
    /// commit that fails for want of space leaves the environment as it was.
    public static func reportingFullDisk<R>(_ what: String = "the store", _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as LMDBError where error.meansDiskFull {
            throw LogError(.diskFull, "no space for \(what) (\(error.message)): nothing was written; free space and run the command again")
        } catch let error as LMDBError where error.code == EIO {
            // LMDB reports a short write (what a full disk gives) as EIO.
            throw LogError(.diskFull, "\(what) could not be written (\(error.message); is the disk full?): nothing was written; free space, check the disk, and run the command again")
        }
    }

    /// Appends one event; see ``append(_:policy:)``.
    @discardableResult
    public func append(_ event: ProposedEvent, policy: inout some AppendPolicy) throws -> Outcome {
        try append([event], policy: &policy)[0]
    }

    /// The outcome of an event whose id is already in the log with the same
    /// content, nil when the id is new; throws when the content differs.
    /// `deferred` is the id's position among the ids an import has not yet put
    /// into the index (nil: look in the index).
    func existingOutcome(_ txn: borrowing WriteTransaction, _ event: ProposedEvent, at deferred: UInt64?) throws -> Outcome? {
        let found: [UInt8]?
        if let deferred { found = bigEndianBytes(deferred) } else { found = try txn.get(eventIDs, key: event.eventID) }
        guard let positionBytes = found else { return nil }
        let position = positionBytes.withUnsafeBytes { readBigEndianUInt64($0) } ?? 0
        guard let stored = try txn.withValue(events, key: positionBytes, { bytes in
            try? RecordCodec.decode(position: position, bytes)
        }), let recorded = stored else {
            throw LogError(.damaged, "the event id index points at position \(position), which does not decode")
        }
        guard recorded.stream == event.stream, recorded.type == event.type, recorded.occurredOn == event.occurredOn
        else { throw Self.duplicateIDError(event) }
        let outcome = Outcome(position: position, version: recorded.version, stream: recorded.stream, eventID: event.eventID, written: false)
        var payload = recorded.packedPayload
        if let sealed = recorded.sealed {
            // Compare with the values opened; when the person's key is erased only
            // the envelope can be compared, and the event is not stored again.
            guard let strings = try personKeys.unseal(sealed, eventID: recorded.eventID, position: position) else { return outcome }
            payload = PackedJSON.encode(try PackedJSON.decode(recorded.packedPayload, unsealing: strings))
        }
        guard payload == event.packedPayload() else { throw Self.duplicateIDError(event) }
        return outcome
    }

    static func duplicateIDError(_ event: ProposedEvent) -> LogError {
        LogError(.duplicateEventId, "event id \(event.eventID) is already in the log with another stream or content")
    }

    static func checkExpected(_ event: ProposedEvent, current: UInt64) throws {
        let ok: Bool
        switch event.expectedVersion {
        case .any: ok = true
        case .noStream: ok = current == 0
        case .exactly(let v): ok = current == v
        }
        if !ok {
            throw LogError(.versionConflict, "\(event.stream) is at version \(current), the append expected \(event.expectedVersion)")
        }
    }

    /// Refuses to extend a chain whose head does not match the last stored event.
    func checkChainHead(_ txn: borrowing WriteTransaction, _ head: Head) throws {
        guard head.position > 0 else {
            // An empty head with events stored means the head record was lost.
            var any = false
            try txn.scan(events, reverse: true) { _, _ in any = true; return false }
            if any { throw LogError(.chainBroken, "events are stored but the chain head is missing; run `iplog verify`") }
            return
        }
        var lastKey: UInt64 = 0
        var lastHash: [UInt8]?
        try txn.scan(events, reverse: true) { key, value in
            lastKey = readBigEndianUInt64(key) ?? 0
            lastHash = RecordCodec.storedHash(value)
            return false
        }
        guard lastKey == head.position, lastHash == head.hash else {
            throw LogError(.chainBroken, "the chain head (position \(head.position)) does not match the last stored event; the store is damaged, run `iplog verify` and restore from a backup")
        }
    }

    /// Why an envelope is malformed, or nil when it is well formed.
    public static func envelopeProblem(_ event: ProposedEvent) -> LogError? {
        if !isValidStreamID(event.stream) {
            return LogError(.invalidShape, "field stream: \"category-id\" of letters, digits, '.', '_' or '-' (at most 200 characters) expected")
        }
        let type = event.type.utf8
        if type.isEmpty || type.count > 64 || !type.allSatisfy({ isAlphanumeric($0) }) || !(type.first! >= 0x41 && type.first! <= 0x5A) {
            return LogError(.invalidShape, "field type: an event type name (letters and digits, starting with a capital) expected")
        }
        if let actor = event.actor, actor.utf8.count > 200 || containsControlCharacter(actor) {
            return LogError(.invalidShape, "field actor: at most 200 characters, no control characters")
        }
        guard case .object = event.payload else {
            return LogError(.invalidShape, "field data: a JSON object expected, found \(event.payload.kindName)")
        }
        return nil
    }

    /// Whether `text` has a control character (Unicode category Cc: U+0000–U+001F,
    /// U+007F–U+009F), read from its UTF-8 bytes (C1 controls are 0xC2 0x80–0x9F).
    public static func containsControlCharacter(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for b in text.utf8 {
            if b < 0x20 || b == 0x7F || (previous == 0xC2 && b >= 0x80 && b <= 0x9F) { return true }
            previous = b
        }
        return false
    }

    /// `category-id`: a letter-led category, '-', then letters, digits, '.', '_', '-'.
    public static func isValidStreamID(_ stream: String) -> Bool {
        let u = Array(stream.utf8)
        guard u.count <= 200, let dash = u.firstIndex(of: UInt8(ascii: "-")), dash > 0, dash < u.count - 1,
              u[0] >= 0x41 && u[0] <= 0x7A && isAlphanumeric(u[0]) else { return false }
        return u[..<dash].allSatisfy(isAlphanumeric)
            && u[(dash + 1)...].allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
}
