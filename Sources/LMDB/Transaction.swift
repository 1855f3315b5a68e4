import CLMDB
#if canImport(FoundationEssentials)
import FoundationEssentials  // ContiguousBytes
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A named database inside an ``Environment``. The handle is a small number, valid
/// for the life of the environment that opened it.
public struct Database: Sendable, Hashable {
    let id: MDB_dbi
    /// The name it was opened by.
    public let name: String
}

/// The transaction behind a ``ReadTransaction`` or ``WriteTransaction``. Its pointer
/// is internal: nothing outside this module can reach the C handle.
public struct TransactionHandle {
    let pointer: OpaquePointer
    let bounds: MapBounds
    let writes: Bool

    /// `value` as a buffer, when it lies inside the data file.
    @inline(__always)
    func lend(_ value: MDB_val) throws(LMDBError) -> UnsafeRawBufferPointer {
        guard bounds.contains(value.mv_data, count: value.mv_size, writes: writes) else { throw LMDBError.corrupted }
        return UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }
}

/// Entry counts and tree shape of one database (`mdb_stat`).
public struct DatabaseStatistics: Sendable, Hashable {
    public var entries: Int
    public var depth: Int
    public var branchPages: Int
    public var leafPages: Int
    public var overflowPages: Int
    public var pageSize: Int

    /// Bytes of the pages the database occupies.
    public var bytes: Int { (branchPages + leafPages + overflowPages) * pageSize }
}

/// What every transaction can do: read.
///
/// Memory handed to a closure (`withValue`, `scan`) is LMDB's map: it is valid
/// only inside that closure and must be copied to outlive it. Never let the
/// buffer escape.
public protocol Transaction: ~Copyable {
    /// The transaction's handle (opaque outside this module).
    var handle: TransactionHandle { get }
}

extension Transaction where Self: ~Copyable {
    /// Copies out the value stored under `key`, or nil when there is none.
    public func get(_ database: Database, key: some ContiguousBytes) throws(LMDBError) -> [UInt8]? {
        guard let value = try lookup(database, key) else { return nil }
        return [UInt8](try handle.lend(value))
    }

    /// Lends the value stored under `key` to `body`, or returns nil when there is none.
    /// The buffer is the map's own memory and must not escape `body`.
    public func withValue<R>(
        _ database: Database, key: some ContiguousBytes, _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        guard let value = try lookup(database, key) else { return nil }
        return try body(try handle.lend(value))
    }

    private func lookup(_ database: Database, _ key: some ContiguousBytes) throws(LMDBError) -> MDB_val? {
        var value = MDB_val()
        let rc: Int32 = key.withUnsafeBytes { keyBytes in
            var keyVal = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            return mdb_get(handle.pointer, database.id, &keyVal, &value)
        }
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return value
    }

    /// Visits entries in key order from the first key at or after `start` (or from
    /// the first key when `start` is nil) until `body` returns false.
    ///
    /// With `reverse`, visits backwards from the last key at or before `start` (or
    /// from the last key). The buffers lent to `body` must not escape it.
    public func scan(
        _ database: Database, from start: [UInt8]? = nil, reverse: Bool = false,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle.pointer, database.id, &cursor))
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()

        var rc: Int32
        if let start {
            rc = start.withUnsafeBytes { bytes in
                key = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
            }
            if reverse {
                if rc == MDB_NOTFOUND {
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST)
                } else if rc == MDB_SUCCESS, !Self.equal(key, start) {
                    rc = mdb_cursor_get(cursor, &key, &value, MDB_PREV)
                }
            }
        } else {
            rc = mdb_cursor_get(cursor, &key, &value, reverse ? MDB_LAST : MDB_FIRST)
        }
        let step = reverse ? MDB_PREV : MDB_NEXT
        while rc == MDB_SUCCESS {
            let more = try body(try handle.lend(key), try handle.lend(value))
            if !more { return }
            rc = mdb_cursor_get(cursor, &key, &value, step)
        }
        if rc != MDB_NOTFOUND { try check(rc) }
    }

    /// Entry count and page use of `database`.
    public func statistics(_ database: Database) throws(LMDBError) -> DatabaseStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(handle.pointer, database.id, &stat))
        return DatabaseStatistics(
            entries: stat.ms_entries, depth: Int(stat.ms_depth),
            branchPages: stat.ms_branch_pages, leafPages: stat.ms_leaf_pages,
            overflowPages: stat.ms_overflow_pages, pageSize: Int(stat.ms_psize))
    }

    private static func equal(_ value: MDB_val, _ bytes: [UInt8]) -> Bool {
        value.mv_size == bytes.count && bytes.withUnsafeBytes { b in
            value.mv_size == 0 || memcmp(value.mv_data, b.baseAddress!, value.mv_size) == 0
        }
    }
}

/// A read-only transaction, lent by ``Environment/read(_:)``. Noncopyable, so it
/// cannot be stored or escape the closure.
///
/// Do not capture it in a `Task {}`: besides being wrong (a transaction belongs to
/// its thread), Swift 6.3.1 crashes the compiler, rather than reporting an error,
/// when a noncopyable value is captured that way.
public struct ReadTransaction: ~Copyable, Transaction {
    public let handle: TransactionHandle
}

/// The write transaction, lent by ``Environment/write(_:)``. Noncopyable, so it
/// cannot be stored or escape the closure; it commits when the closure returns.
public struct WriteTransaction: ~Copyable, Transaction {
    public let handle: TransactionHandle

    /// Opens the named database in this transaction, creating it with `.create`.
    public func openDatabase(named name: String, flags: DatabaseFlags = []) throws(LMDBError) -> Database {
        var dbi = MDB_dbi()
        try check(mdb_dbi_open(handle.pointer, name, flags.rawValue, &dbi))
        return Database(id: dbi, name: name)
    }

    /// The named database, or nil when the environment has none of that name.
    public func existingDatabase(named name: String) throws(LMDBError) -> Database? {
        var dbi = MDB_dbi()
        let rc = mdb_dbi_open(handle.pointer, name, 0, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc)
        return Database(id: dbi, name: name)
    }

    /// The environment's main (unnamed) database. LMDB keeps the named
    /// databases' records in it and rewrites its root page with every commit that
    /// changes any database, so a small value kept there costs a commit no extra
    /// page. Its keys must not be the name of a named database.
    public func mainDatabase() throws(LMDBError) -> Database {
        var dbi = MDB_dbi()
        try check(mdb_dbi_open(handle.pointer, nil, 0, &dbi))
        return Database(id: dbi, name: "")
    }

    /// Stores `value` under `key`.
    /// - Throws: ``LMDBError/keyExists`` with `.noOverwrite` when the key is present;
    ///   ``LMDBError/mapFull`` (handled by ``Environment/write(_:)``) when the map is full.
    public func put(
        _ database: Database, key: some ContiguousBytes, value: some ContiguousBytes, flags: PutFlags = []
    ) throws(LMDBError) {
        let rc: Int32 = key.withUnsafeBytes { keyBytes in
            value.withUnsafeBytes { valueBytes in
                var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var v = MDB_val(mv_size: valueBytes.count, mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress))
                return mdb_put(handle.pointer, database.id, &k, &v, flags.rawValue)
            }
        }
        try check(rc)
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ database: Database, key: some ContiguousBytes) throws(LMDBError) -> Bool {
        let rc: Int32 = key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            return mdb_del(handle.pointer, database.id, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc)
        return true
    }

    /// Deletes `database` and its entries from the environment. Its handle is
    /// closed: it must not be used again.
    public func drop(_ database: Database) throws(LMDBError) {
        try check(mdb_drop(handle.pointer, database.id, 1))
    }

    /// Removes every entry of `database`, keeping the database itself.
    public func empty(_ database: Database) throws(LMDBError) {
        try check(mdb_drop(handle.pointer, database.id, 0))
    }
}

/// A copyable, read-only reference to an open transaction, for code that must
/// reach the transaction through a value (a view handed to a plug-in) rather
/// than a closure parameter.
///
/// It is valid only while the transaction it came from is open: like map memory,
/// it must not outlive the closure that lent the transaction. Prefer the
/// transaction itself wherever a closure parameter will do.
public struct UnsafeTransactionReference: Transaction {
    public let handle: TransactionHandle
}

extension ReadTransaction {
    /// A reference for reading through a value; see ``UnsafeTransactionReference``.
    public var unsafeReference: UnsafeTransactionReference { UnsafeTransactionReference(handle: handle) }
}

extension WriteTransaction {
    /// A read-only reference for reading through a value; see ``UnsafeTransactionReference``.
    public var unsafeReference: UnsafeTransactionReference { UnsafeTransactionReference(handle: handle) }
}
