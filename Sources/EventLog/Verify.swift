import LMDB

/// What `verify` found.
public struct VerifyReport: Sendable {
    /// One thing wrong with the store.
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        /// The position of the event concerned, when there is one.
        public var position: UInt64?
        /// A stable name: `gap`, `damaged`, `hashMismatch`, `versionGap`,
        /// `missingIndexEntry`, `wrongIndexEntry`, `strayIndexEntry`, `chainHead`,
        /// `missingKey` (a key slot handed out holds no key: lost, never erased),
        /// `wrongKey` (a sealed event does not open with its slot's key: another
        /// store's key file?), `erasedWithoutRecord` (a slot marked erased that
        /// the log records no erasure of), `erasureIncomplete` (an erasure the log
        /// records whose key is still there).
        public var kind: String
        public var message: String

        public init(position: UInt64?, kind: String, message: String) {
            self.position = position
            self.kind = kind
            self.message = message
        }

        public var description: String {
            (position.map { "position \($0): " } ?? "") + message
        }
    }

    public var events: Int
    /// Events with sealed personal values, and of those, how many have an erased key.
    public var sealedEvents = 0
    public var erasedEvents = 0
    public var problems: [Problem]
    /// True when more problems were found than are listed.
    public var truncated: Bool
    public var ok: Bool { problems.isEmpty }
}

extension EventStore {
    /// The most problems a report lists.
    public static let maximumProblems = 1000

    /// Recomputes the hash chain from the first event and checks every index
    /// against the log: each event is indexed under its stream and version and its
    /// id (an import's last ids may wait for the next append: ``DeferredEventIDs``),
    /// each index entry points at the event it names, and the chain head
    /// matches. (A stream's head is its last index entry, so it is checked with them.) Runs in one read transaction (one consistent snapshot).
    public func verify() throws -> VerifyReport {
        try environment.read { txn in
            var problems: [VerifyReport.Problem] = []
            var truncated = false
            func report(_ position: UInt64?, _ kind: String, _ message: String) {
                if problems.count < Self.maximumProblems {
                    problems.append(.init(position: position, kind: kind, message: message))
                } else {
                    truncated = true
                }
            }

            let keysGiven = try KeyAllocator.keysGiven(txn, main: main)
            var expectedPosition: UInt64 = 1
            var previousHash = Self.zeroHash
            var lastVersion: [String: UInt64] = [:]
            var count = 0
            var sealedCount = 0, erasedCount = 0
            var slots: [UInt32: PersonKeys.Slot] = [:]
            var wrongKeys: [UInt32: Int] = [:]  // slot → sealed events its key does not open
            // Ids after `idsThrough` are an import's still to be indexed (the next append puts them in).
            let idsThrough: UInt64
            do {
                idsThrough = try readIDsThrough(txn) ?? .max
            } catch {
                report(nil, "damaged", "the event id index's high-water mark is not an 8-byte position")
                idsThrough = 0
            }
            try txn.scan(events) { key, value in
                count += 1
                guard let position = readBigEndianUInt64(key) else {
                    report(nil, "damaged", "an event key is not an 8-byte position")
                    return true
                }
                if position != expectedPosition {
                    report(position, "gap", "positions \(expectedPosition)–\(position - 1) are missing")
                }
                expectedPosition = position + 1
                guard let storedHash = RecordCodec.storedHash(value) else {
                    report(position, "damaged", "the record is too short")
                    return true
                }
                let body = UnsafeRawBufferPointer(rebasing: value[0..<(value.count - RecordCodec.hashSize)])
                if RecordCodec.chainHash(previous: previousHash, position: position, body: body) != storedHash {
                    report(position, "hashMismatch", "the hash does not match the event and the chain before it")
                }
                previousHash = storedHash
                let event: RecordedEvent
                do {
                    event = try RecordCodec.decode(position: position, value)
                } catch {
                    report(position, "damaged", (error as? DamagedRecord)?.reason ?? "\(error)")
                    return true
                }
                let expectedVersion = (lastVersion[event.stream] ?? 0) + 1
                if event.version != expectedVersion {
                    report(position, "versionGap", "\(event.stream) version \(event.version) follows version \(expectedVersion - 1)")
                }
                lastVersion[event.stream] = event.version
                if let sealed = event.sealed {
                    sealedCount += 1
                    if slots[sealed.slot] == nil {
                        slots[sealed.slot] = try personKeys.slot(sealed.slot)
                        if case .missing = slots[sealed.slot]!, sealed.slot >= keysGiven {
                            report(position, "missingKey", "key slot \(sealed.slot) of its sealed values was never handed out")
                        }
                    }
                    switch slots[sealed.slot]! {
                    case .erased: erasedCount += 1
                    case .key(let key):
                        if sealed.open(key: key, eventID: event.eventID) == nil {
                            if wrongKeys[sealed.slot] == nil && wrongKeys.count < 10 {
                                report(position, "wrongKey", "its sealed values do not open with the key in slot \(sealed.slot): the key file is not this log's (swapped or restored from another store?)")
                            }
                            wrongKeys[sealed.slot, default: 0] += 1
                        }
                    case .missing: break  // reported below, slot by slot
                    }
                }
                let indexed = try txn.get(streamIndex, key: Self.streamKey(event.stream, version: event.version))
                if indexed == nil {
                    report(position, "missingIndexEntry", "not in the stream index (\(event.stream) version \(event.version))")
                } else if indexed != bigEndianBytes(position) {
                    report(position, "wrongIndexEntry", "the stream index entry of \(event.stream) version \(event.version) points elsewhere")
                }
                let byID = try txn.get(eventIDs, key: event.eventID)
                if byID == nil {
                    if position <= idsThrough { report(position, "missingIndexEntry", "not in the event id index") }
                } else if byID != bigEndianBytes(position) {
                    report(position, "wrongIndexEntry", "the event id index entry points elsewhere")
                }
                return true
            }

            // Index entries with no event behind them.
            try txn.scan(streamIndex) { key, value in
                let position = readBigEndianUInt64(value)
                let matches = try position.flatMap { p in
                    try txn.withValue(events, key: bigEndianBytes(p)) { record in
                        (try? RecordCodec.decode(position: p, record)).map { Self.streamKey($0.stream, version: $0.version) == Array(key) }
                    } ?? nil
                } ?? false
                if !matches {
                    report(position, "strayIndexEntry", "a stream index entry names an event that is not there")
                }
                return true
            }
            try txn.scan(eventIDs) { key, value in
                let position = readBigEndianUInt64(value)
                let matches = try position.flatMap { p in
                    try txn.withValue(events, key: bigEndianBytes(p)) { record in
                        RecordCodec.storedEventID(record).map { $0.byteArray == Array(key) } ?? false
                    }
                } ?? false
                if !matches {
                    report(position, "strayIndexEntry", "an event id index entry names an event that is not there")
                }
                return true
            }
            let head = try readHead(txn)
            if head.position != expectedPosition - 1 || head.hash != previousHash {
                report(head.position, "chainHead", "the chain head does not match the last event")
            }
            if wrongKeys.count > 10 {
                report(nil, "wrongKey", "the sealed values of \(wrongKeys.values.reduce(0, +)) events under \(wrongKeys.count) key slots do not open with their keys (the first 10 slots are listed above)")
            }
            try verifyKeySlots(txn, keysGiven: keysGiven, read: slots, report: report)
            if idsThrough != .max, idsThrough >= head.position {
                report(nil, "damaged", "the event id index's high-water mark (\(idsThrough)) is not before the head (\(head.position))")
            }
            return VerifyReport(events: count, sealedEvents: sealedCount, erasedEvents: erasedCount, problems: problems, truncated: truncated)
        }
    }
}

extension EventStore {
    /// Checks that every key slot the log has handed out holds a key or an
    /// erasure's marker, and that marks and the log's erasure records agree.
    /// `read`: the slots the scan of the events has read already.
    private func verifyKeySlots(_ txn: borrowing ReadTransaction, keysGiven: UInt32, read: [UInt32: PersonKeys.Slot],
                                report: (UInt64?, String, String) -> Void) throws {
        let recorded = Set(try Self.slots(txn, main: main, prefix: Self.erasurePrefix))
        let pending = Set(try Self.slots(txn, main: main, prefix: Self.pendingErasurePrefix))
        var missing: [ClosedRange<UInt32>] = []
        for slot in 0..<keysGiven {
            switch try read[slot] ?? personKeys.slot(slot) {
            case .missing:
                if let last = missing.last, last.upperBound == slot - 1 {
                    missing[missing.count - 1] = last.lowerBound...slot
                } else {
                    missing.append(slot...slot)
                }
            case .erased:
                if !recorded.contains(slot) && !personKeys.isLegacy {
                    report(nil, "erasedWithoutRecord", "key slot \(slot) is marked erased, but the log records no erasure of it")
                }
            case .key:
                if recorded.contains(slot) {
                    report(nil, "erasureIncomplete", "key slot \(slot) was erased (the log records it) but its key is still in the key file"
                           + (pending.contains(slot) ? "; the next command that writes finishes it" : ""))
                }
            }
        }
        if !missing.isEmpty {
            let count = missing.reduce(0) { $0 + $1.count }
            let shown = missing.prefix(10).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)–\($0.upperBound)" }.joined(separator: ", ")
            report(nil, "missingKey", "\(count) of the \(keysGiven) key slots handed out hold no key (slots \(shown)\(missing.count > 10 ? ", …" : "")): "
                   + "the key file was lost, cut or replaced; restore keys/person.keys from the backup taken with the log")
        }
    }

    /// Checks the chain at each of `positions`: the record hashes to its stored
    /// hash from its predecessor's stored hash. Returns the positions that fail
    /// (empty when all hold). Used by the audit replay to vouch for what it shows.
    public func failingLinks(_ positions: [UInt64]) throws -> [UInt64] {
        try environment.read { txn in
            var failing: [UInt64] = []
            for position in positions {
                let previous = position <= 1 ? Self.zeroHash
                    : try txn.withValue(events, key: bigEndianBytes(position - 1)) { RecordCodec.storedHash($0) } ?? nil
                let ok = try txn.withValue(events, key: bigEndianBytes(position)) { record -> Bool in
                    guard let previous, let stored = RecordCodec.storedHash(record) else { return false }
                    let body = UnsafeRawBufferPointer(rebasing: record[0..<(record.count - RecordCodec.hashSize)])
                    return RecordCodec.chainHash(previous: previous, position: position, body: body) == stored
                } ?? false
                if !ok { failing.append(position) }
            }
            return failing
        }
    }
}
