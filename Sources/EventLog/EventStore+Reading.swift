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
        let prefix = Array(stream.utf8) + [0]
        strings.stream = (Array(stream.utf8), stream)
        var positions: [UInt64?] = []
        try txn.scan(streamIndex, from: Self.streamKey(stream, version: version), reverse: backwards) { key, value in
            guard key.count == prefix.count + 8, key.starts(with: prefix) else { return false }
            positions.append(readBigEndianUInt64(value))
            return positions.count < limit
        }
        var out: [RecordedEvent] = []
        out.reserveCapacity(positions.count)
        for position in positions {
            guard let position, let event = try txn.withValue(events, key: PositionKey(position: position), { bytes in
                try? RecordCodec.decode(position: position, bytes, strings: &strings)
            }), let event else {
                throw LogError(.damaged, "the stream index of \(stream) points at position \(position ?? 0), which does not decode")
            }
            out.append(event)
        }
        return out
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

    /// Every stream id with its version, in id order; `prefix` filters (e.g. `case-`).
    public func streams(prefix: String = "") throws -> [(stream: String, version: UInt64)] {
        try environment.read { txn in
            var out: [(String, UInt64)] = []
            try forEachStream(txn, prefix: prefix) { stream, version in out.append((stream, version)) }
            return out
        }
    }
}
