import CLMDB
import Foundation

/// The baseline: the same bytes through LMDB's C API with no log logic — no
/// rules, no hashing, no records — only what any event store on LMDB must do.
struct RawLMDB {
    let env: OpaquePointer
    let events: MDB_dbi
    let index: MDB_dbi

    /// Opens an environment at `path` with an `events` database and a (stream, version) index.
    init(path: String, durable: Bool = true) {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var env: OpaquePointer?
        mdb_env_create(&env)
        mdb_env_set_mapsize(env, 64 << 30)
        mdb_env_set_maxdbs(env, 4)
        precondition(mdb_env_open(env, path, UInt32(MDB_NOTLS) | (durable ? 0 : UInt32(MDB_NOSYNC)), 0o600) == 0)
        var txn: OpaquePointer?
        mdb_txn_begin(env, nil, 0, &txn)
        var e = MDB_dbi(), i = MDB_dbi()
        mdb_dbi_open(txn, "events", UInt32(MDB_CREATE), &e)
        mdb_dbi_open(txn, "index", UInt32(MDB_CREATE), &i)
        mdb_txn_commit(txn)
        self.env = env!
        events = e
        index = i
    }

    func close() { mdb_env_close(env) }

    /// Puts records `range` of `lines` (keyed by a big-endian counter from 1) and
    /// their (stream, version) index entries, `batch` to a transaction.
    func load(_ lines: [[UInt8]], keys: [[UInt8]], range: Range<Int>, batch: Int) {
        var start = range.lowerBound
        while start < range.upperBound {
            var txn: OpaquePointer?
            mdb_txn_begin(env, nil, 0, &txn)
            for n in start..<min(start + batch, range.upperBound) {
                var counter = UInt64(n + 1).bigEndian
                withUnsafeMutableBytes(of: &counter) { c in
                    var k = MDB_val(mv_size: 8, mv_data: c.baseAddress)
                    lines[n].withUnsafeBytes { v in
                        var value = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                        precondition(mdb_put(txn, events, &k, &value, UInt32(MDB_APPEND)) == 0)
                    }
                    keys[n].withUnsafeBytes { ik in
                        var ikey = MDB_val(mv_size: ik.count, mv_data: UnsafeMutableRawPointer(mutating: ik.baseAddress))
                        var value = MDB_val(mv_size: 8, mv_data: c.baseAddress)
                        precondition(mdb_put(txn, index, &ikey, &value, 0) == 0)
                    }
                }
            }
            precondition(mdb_txn_commit(txn) == 0)
            start += batch
        }
    }

    /// A cursor scan of every record; returns the bytes seen (so the scan cannot be skipped).
    func scan() -> Int {
        var txn: OpaquePointer?
        mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        var cursor: OpaquePointer?
        mdb_cursor_open(txn, events, &cursor)
        var k = MDB_val(), v = MDB_val()
        var total = 0
        var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while rc == 0 {
            // Every byte of the record is read, as any consumer of it must.
            for byte in UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size) { total &+= Int(byte) }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        mdb_cursor_close(cursor)
        mdb_txn_abort(txn)
        return total
    }

    /// A range read of one stream's index entries and the records they point at.
    func readStream(prefix: [UInt8]) -> Int {
        var txn: OpaquePointer?
        mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        var cursor: OpaquePointer?
        mdb_cursor_open(txn, index, &cursor)
        var total = 0
        prefix.withUnsafeBytes { p in
            var k = MDB_val(mv_size: p.count, mv_data: UnsafeMutableRawPointer(mutating: p.baseAddress))
            var v = MDB_val()
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            while rc == 0, k.mv_size >= p.count, memcmp(k.mv_data, p.baseAddress!, p.count) == 0 {
                var record = MDB_val()
                var key = v
                if mdb_get(txn, events, &key, &record) == 0 {
                    let bytes = UnsafeRawBufferPointer(start: record.mv_data, count: record.mv_size)
                    total &+= Int(bytes[0]) &+ record.mv_size
                }
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
        }
        mdb_cursor_close(cursor)
        mdb_txn_abort(txn)
        return total
    }
}
