import Foundation
import JSON
import LMDB

/// Reading the log: by position, by stream, and the streams.
extension EventStore {
    /// Events of the log from `position` on, at most `limit`, in position order,
    /// in one short read transaction (a page).
    public func read(from position: UInt64 = 1, limit: Int = 1000) throws -> [RecordedEvent] {
        try environment.read { txn in
            var out: [RecordedEvent] = []
            try txn.scan(events, from: bigEndianBytes(max(position, 1))) { key, value in
                let p = readBigEndianUInt64(key) ?? 0
                out.append(try RecordCodec.decode(position: p, value))
                return out.count < limit
            }
            return out
        }
    }

    /// Visits every event from `position` on in pages of `pageSize`, each page its
    /// own read transaction (a long read transaction would keep LMDB from reusing
    /// pages), until `body` returns false. Events committed while it runs are
    /// visited too.
    public func forEach(from position: UInt64 = 1, pageSize: Int = 4096, _ body: (RecordedEvent) throws -> Bool) throws {
        var next = max(position, 1)
        while true {
            let page = try read(from: next, limit: pageSize)
            for event in page where try !body(event) { return }
            guard let last = page.last, page.count == pageSize else { return }
            next = last.position + 1
        }
    }

    /// Visits the events from `position` through `last` in log order with one
    /// cursor, each lent where it lies (``StoredEvent``): nothing is copied or
    /// allocated for an event. Reads in transactions of `perTransaction` events,
    /// so that a long scan does not keep LMDB from reusing pages; events
    /// committed meanwhile are visited too, up to `last`. Stops when `body`
    /// returns false. What rebuilds and catch-up fold.
    /// - Throws: ``DamagedRecord`` for a record that does not decode.
    public func scan(from position: UInt64 = 1, through last: UInt64 = .max, perTransaction: Int = 1 << 16,
                     _ body: (StoredEvent) throws -> Bool) throws {
        var next = max(position, 1)
        while next <= last {
            var count = 0, more = true
            try environment.read { txn in
                try txn.scan(events, from: bigEndianBytes(next)) { key, value in
                    guard let p = readBigEndianUInt64(key), p <= last else {
                        more = false
                        return false
                    }
                    more = try body(try StoredEvent(position: p, record: value))
                    next = p + 1
                    count += 1
                    return more && count < perTransaction
                }
            }
            if !more || count < perTransaction { return }
        }
    }

    /// The records from `position` through `last` in log order, lent in
    /// batches of up to `batchSize` read with one cursor in one read
    /// transaction each: `body` gets each batch while its transaction is open
    /// (the records must not outlive the call; they may be read on other
    /// threads within it, ``StoredEvent/init(_:)`` reads one). Nothing of a
    /// record is read here: a rebuild reads them on several cores.
    public func scanRecords(from position: UInt64 = 1, through last: UInt64 = .max, batchSize: Int,
                            _ body: ([LentRecord]) throws -> Void) throws {
        var batch: [LentRecord] = []
        batch.reserveCapacity(batchSize)
        var next = max(position, 1)
        while next <= last {
            var more = true
            try environment.read { txn in
                try txn.scan(events, from: bigEndianBytes(next)) { key, value in
                    guard let p = readBigEndianUInt64(key), p <= last else {
                        more = false
                        return false
                    }
                    batch.append(LentRecord(position: p, bytes: value))
                    next = p + 1
                    return batch.count < batchSize
                }
                if !batch.isEmpty { try body(batch) }
            }
            if !more || batch.count < batchSize { return }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Visits one stream's events from `version` on, in order, each lent where
    /// it lies (``StoredEvent``), in one read transaction; stops when `body`
    /// returns false. What a case's history and its on-demand folds read.
    /// - Throws: ``LogError`` `.damaged` when the stream index points at a
    ///   record that does not decode.
    public func scan(stream: String, from version: UInt64 = 1, _ body: (StoredEvent) throws -> Bool) throws {
        try environment.read { txn in
            let positions = try streamPositions(txn, stream, from: version, backwards: false, limit: .max)
            try forEachRecord(txn, at: positions, of: stream) { lent in
                guard let event = try? StoredEvent(lent) else { throw Self.damaged(stream, at: lent.position) }
                return try body(event)
            }
        }
    }

    /// Events of one stream from `version` on (forwards), or from `version` back
    /// to 1 (`backwards`; nil starts at the last), at most `limit`.
    public func read(stream: String, from version: UInt64? = nil, backwards: Bool = false, limit: Int = .max) throws -> [RecordedEvent] {
        try environment.read { txn in
            try readStream(txn, stream, from: version ?? (backwards ? UInt64.max : 1), backwards: backwards, limit: limit)
        }
    }

    func readStream(_ txn: borrowing some Transaction & ~Copyable, _ stream: String, from version: UInt64, backwards: Bool, limit: Int) throws -> [RecordedEvent] {
        var strings = StringTable()
        return try readStream(txn, stream, from: version, backwards: backwards, limit: limit, strings: &strings)
    }

    func readStream(_ txn: borrowing some Transaction & ~Copyable, _ stream: String, from version: UInt64, backwards: Bool, limit: Int,
                    strings: inout StringTable) throws -> [RecordedEvent] {
        strings.stream = (Array(stream.utf8), stream)
        let positions = try streamPositions(txn, stream, from: version, backwards: backwards, limit: limit)
        var out: [RecordedEvent] = []
        out.reserveCapacity(positions.count)
        try forEachRecord(txn, at: positions, of: stream) { lent in
            guard let event = try? RecordCodec.decode(position: lent.position, lent.bytes, strings: &strings) else {
                throw Self.damaged(stream, at: lent.position)
            }
            out.append(event)
            return true
        }
        return out
    }

    /// The log positions of one stream's events from `version` on (or back
    /// from it), at most `limit`, as its stream index holds them (nil where an
    /// entry does not read).
    private func streamPositions(_ txn: borrowing some Transaction & ~Copyable, _ stream: String, from version: UInt64,
                                 backwards: Bool, limit: Int) throws -> [UInt64?] {
        let prefix = Array(stream.utf8) + [0]
        var positions: [UInt64?] = []
        try txn.scan(streamIndex, from: Self.streamKey(stream, version: version), reverse: backwards) { key, value in
            guard key.count == prefix.count + 8, key.starts(with: prefix) else { return false }
            positions.append(readBigEndianUInt64(value))
            return positions.count < limit
        }
        return positions
    }

    /// Visits the records at `positions` of `stream`, in order, until `body`
    /// returns false.
    ///
    /// A stream's records lie scattered over the log, and reading one touches
    /// cache lines nothing has touched before. So they are looked up
    /// ``recordsAhead`` at a time and their bytes asked for
    /// (``LentRecord/prefetch()``) before the first of them is visited: they
    /// arrive while the ones before are read.
    private func forEachRecord(_ txn: borrowing some Transaction & ~Copyable, at positions: [UInt64?], of stream: String,
                               _ body: (LentRecord) throws -> Bool) throws {
        var ahead: [LentRecord] = []
        ahead.reserveCapacity(Self.recordsAhead)
        for chunk in stride(from: 0, to: positions.count, by: Self.recordsAhead) {
            for position in positions[chunk..<min(chunk + Self.recordsAhead, positions.count)] {
                guard let position, let bytes = try txn.withValue(events, key: PositionKey(position: position), { $0 }) else {
                    throw Self.damaged(stream, at: position)
                }
                let lent = LentRecord(position: position, bytes: bytes)
                lent.prefetch()
                ahead.append(lent)
            }
            for lent in ahead { guard try body(lent) else { return } }
            ahead.removeAll(keepingCapacity: true)
        }
    }

    /// How many of a stream's records ``forEachRecord(_:at:of:_:)`` looks up before it visits them.
    static let recordsAhead = 16

    private static func damaged(_ stream: String, at position: UInt64?) -> LogError {
        LogError(.damaged, "the stream index of \(stream) points at position \(position ?? 0), which does not decode")
    }

    /// The events of each of `streams` at log positions up to `position`, read
    /// in one read transaction (a rebuild reads the log a few hundred streams at a time).
    public func read(streams: [String], through position: UInt64) throws -> [[RecordedEvent]] {
        try environment.read { txn in
            var strings = StringTable()
            return try streams.map { stream in
                try readStream(txn, stream, from: 1, backwards: false, limit: .max, strings: &strings).filter { $0.position <= position }
            }
        }
    }

    /// How many streams' names start with `prefix` (without their versions).
    public func streamCount(prefix: String = "") throws -> Int {
        try environment.read { txn in
            var count = 0
            try forEachStreamName(txn, prefix: prefix) { _ in count += 1 }
            return count
        }
    }

    /// Every stream id with its version, in id order; `prefix` filters (e.g. `case-`).
    public func streams(prefix: String = "") throws -> [(stream: String, version: UInt64)] {
        try environment.read { txn in
            var out: [(String, UInt64)] = []
            try forEachStream(txn, prefix: prefix) { stream, version in out.append((stream, version)) }
            return out
        }
    }
}
