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
    /// matches. (A stream's head is its last index entry, so it is checked with
    /// them.) Runs in one read transaction (one consistent snapshot); each check
    /// is one method of ``Verifier``.
    public func verify() throws -> VerifyReport {
        try environment.read { txn in
            var v = Verifier(store: self, keysGiven: try KeyAllocator.keysGiven(txn, main: main))
            v.idsThrough = v.readIDsHighWaterMark(txn)
            try txn.scan(events) { key, value in
                v.count += 1
                guard let position = readBigEndianUInt64(key) else {
                    v.report(nil, "damaged", "an event key is not an 8-byte position")
                    return true
                }
                v.checkPosition(position)
                guard v.checkChain(position, value) else { return true }
                let event: RecordedEvent
                do {
                    event = try RecordCodec.decode(position: position, value)
                } catch {
                    v.report(position, "damaged", (error as? DamagedRecord)?.reason ?? "\(error)")
                    return true
                }
                v.checkVersion(event)
                try v.checkSealedValues(event)
                try v.checkIndexEntries(event, txn)
                return true
            }
            try v.checkStrayStreamIndexEntries(txn)
            try v.checkStrayEventIDEntries(txn)
            let head = try readHead(txn)
            v.checkChainHead(head)
            v.summarizeWrongKeys()
            try verifyKeySlots(txn, keysGiven: v.keysGiven, read: v.slots) { v.report($0, $1, $2) }
            v.checkIDsHighWaterMark(before: head)
            return VerifyReport(events: v.count, sealedEvents: v.sealedCount, erasedEvents: v.erasedCount, problems: v.problems, truncated: v.truncated)
        }
    }

    /// What `verify` has found so far, and one method per check. Lives for one
    /// read transaction, which each check borrows.
    struct Verifier {
        let store: EventStore
        let keysGiven: UInt32
        var problems: [VerifyReport.Problem] = []
        var truncated = false
        var count = 0
        var sealedCount = 0, erasedCount = 0
        var expectedPosition: UInt64 = 1
        var previousHash = EventStore.zeroHash
        var lastVersion: [String: UInt64] = [:]
        /// Key slots read so far.
        var slots: [UInt32: PersonKeys.Slot] = [:]
        /// Slot → sealed events its key does not open.
        var wrongKeys: [UInt32: Int] = [:]
        /// Ids after this position are an import's still to be indexed (the next append puts them in).
        var idsThrough: UInt64 = .max

        init(store: EventStore, keysGiven: UInt32) {
            self.store = store
            self.keysGiven = keysGiven
        }

        mutating func report(_ position: UInt64?, _ kind: String, _ message: String) {
            if problems.count < EventStore.maximumProblems {
                problems.append(.init(position: position, kind: kind, message: message))
            } else {
                truncated = true
            }
        }

        /// The event id index's high-water mark (`.max` when there is none; 0, reported, when damaged).
        mutating func readIDsHighWaterMark(_ txn: borrowing ReadTransaction) -> UInt64 {
            do {
                return try store.readIDsThrough(txn) ?? .max
            } catch {
                report(nil, "damaged", "the event id index's high-water mark is not an 8-byte position")
                return 0
            }
        }

        /// Positions run from 1 without a gap.
        mutating func checkPosition(_ position: UInt64) {
            if position != expectedPosition {
                report(position, "gap", "positions \(expectedPosition)–\(position - 1) are missing")
            }
            expectedPosition = position + 1
        }

        /// The record hashes, with the chain before it, to its stored hash;
        /// false when the record is too short to hold one.
        mutating func checkChain(_ position: UInt64, _ record: UnsafeRawBufferPointer) -> Bool {
            guard let storedHash = RecordCodec.storedHash(record) else {
                report(position, "damaged", "the record is too short")
                return false
            }
            let body = UnsafeRawBufferPointer(rebasing: record[0..<(record.count - RecordCodec.hashSize)])
            if RecordCodec.chainHash(previous: previousHash, position: position, body: body) != storedHash {
                report(position, "hashMismatch", "the hash does not match the event and the chain before it")
            }
            previousHash = storedHash
            return true
        }

        /// Versions run from 1 without a gap within each stream.
        mutating func checkVersion(_ event: RecordedEvent) {
            let expected = (lastVersion[event.stream] ?? 0) + 1
            if event.version != expected {
                report(event.position, "versionGap", "\(event.stream) version \(event.version) follows version \(expected - 1)")
            }
            lastVersion[event.stream] = event.version
        }

        /// Sealed values name a slot the log handed out, and open with its key (unless erased).
        mutating func checkSealedValues(_ event: RecordedEvent) throws {
            guard let sealed = event.sealed else { return }
            sealedCount += 1
            if slots[sealed.slot] == nil {
                slots[sealed.slot] = try store.personKeys.slot(sealed.slot)
                if case .missing = slots[sealed.slot]!, sealed.slot >= keysGiven {
                    report(event.position, "missingKey", "key slot \(sealed.slot) of its sealed values was never handed out")
                }
            }
            switch slots[sealed.slot]! {
            case .erased: erasedCount += 1
            case .key(let key):
                if sealed.open(key: key, eventID: event.eventID) == nil {
                    if wrongKeys[sealed.slot] == nil && wrongKeys.count < 10 {
                        report(event.position, "wrongKey", "its sealed values do not open with the key in slot \(sealed.slot): the key file is not this log's (swapped or restored from another store?)")
                    }
                    wrongKeys[sealed.slot, default: 0] += 1
                }
            case .missing: break  // reported with the key slots, slot by slot
            }
        }

        /// The event is in the stream index and (up to the high-water mark) the event id index, each pointing at it.
        mutating func checkIndexEntries(_ event: RecordedEvent, _ txn: borrowing ReadTransaction) throws {
            let position = event.position
            let indexed = try txn.get(store.streamIndex, key: EventStore.streamKey(event.stream, version: event.version))
            if indexed == nil {
                report(position, "missingIndexEntry", "not in the stream index (\(event.stream) version \(event.version))")
            } else if indexed != bigEndianBytes(position) {
                report(position, "wrongIndexEntry", "the stream index entry of \(event.stream) version \(event.version) points elsewhere")
            }
            let byID = try txn.get(store.eventIDs, key: event.eventID)
            if byID == nil {
                if position <= idsThrough { report(position, "missingIndexEntry", "not in the event id index") }
            } else if byID != bigEndianBytes(position) {
                report(position, "wrongIndexEntry", "the event id index entry points elsewhere")
            }
        }

        /// Every stream index entry names an event that is there, under that stream and version.
        mutating func checkStrayStreamIndexEntries(_ txn: borrowing ReadTransaction) throws {
            let events = store.events
            try txn.scan(store.streamIndex) { key, value in
                let position = readBigEndianUInt64(value)
                let matches = try position.flatMap { p in
                    try txn.withValue(events, key: bigEndianBytes(p)) { record in
                        (try? RecordCodec.decode(position: p, record)).map { EventStore.streamKey($0.stream, version: $0.version) == Array(key) }
                    } ?? nil
                } ?? false
                if !matches { report(position, "strayIndexEntry", "a stream index entry names an event that is not there") }
                return true
            }
        }

        /// Every event id index entry names an event with that id.
        mutating func checkStrayEventIDEntries(_ txn: borrowing ReadTransaction) throws {
            let events = store.events
            try txn.scan(store.eventIDs) { key, value in
                let position = readBigEndianUInt64(value)
                let matches = try position.flatMap { p in
                    try txn.withValue(events, key: bigEndianBytes(p)) { record in
                        RecordCodec.storedEventID(record).map { $0.byteArray == Array(key) } ?? false
                    }
                } ?? false
                if !matches { report(position, "strayIndexEntry", "an event id index entry names an event that is not there") }
                return true
            }
        }

        /// The stored chain head is the last event and its hash.
        mutating func checkChainHead(_ head: Head) {
            if head.position != expectedPosition - 1 || head.hash != previousHash {
                report(head.position, "chainHead", "the chain head does not match the last event")
            }
        }

        /// One line for the wrong keys past the first ten slots.
        mutating func summarizeWrongKeys() {
            if wrongKeys.count > 10 {
                report(nil, "wrongKey", "the sealed values of \(wrongKeys.values.reduce(0, +)) events under \(wrongKeys.count) key slots do not open with their keys (the first 10 slots are listed above)")
            }
        }

        /// The event id index's high-water mark lies before the head.
        mutating func checkIDsHighWaterMark(before head: Head) {
            if idsThrough != .max, idsThrough >= head.position {
                report(nil, "damaged", "the event id index's high-water mark (\(idsThrough)) is not before the head (\(head.position))")
            }
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
