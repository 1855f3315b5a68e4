import CLMDB
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An LMDB environment: one memory-mapped data file, its lock file and its named
/// databases.
///
/// Transactions are lent to closures (``read(_:)``, ``write(_:)``) and never
/// stored, so one object owns the `MDB_env` and releases it in exactly one place
/// (`deinit`). The environment is opened with `MDB_NOTLS`, so transactions may run
/// on any thread; a transaction must still stay on the thread that began it
/// (the closure is synchronous, so it cannot cross an `await`).
///
/// The map grows by itself: a write that fills it is rolled back, the map is
/// doubled (by at most ``maximumGrowth``) and the write runs again, so a write
/// closure may run more than once and must have no effect outside its transaction.
/// When another process grew the map, the next transaction adopts the new size.
public final class Environment: @unchecked Sendable {
    // @unchecked Sendable: `handle` is only used through LMDB calls that are
    // thread-safe under MDB_NOTLS; resizing the map (which LMDB requires to happen
    // with no transaction of this process open) is serialised by `mapLock`, which
    // every transaction holds shared.

    private let handle: OpaquePointer
    private let mapLock = ReadWriteLock()
    /// Where the data file is mapped, for bounding what transactions lend out.
    let bounds: MapBounds

    /// The directory (or, with `.noSubdirectory`, the file) the environment was opened at.
    public let path: String

    /// The largest single step by which the map grows.
    public let maximumGrowth: Int

    /// Opens (creating when missing) the environment at `path`, which must be an
    /// existing directory unless `flags` has `.noSubdirectory`.
    ///
    /// - Parameters:
    ///   - mapSize: the initial size of the map in bytes; it grows as needed.
    ///   - maxDatabases: how many named databases may be opened.
    ///   - mode: permissions of newly created files; `0o600` keeps health data
    ///     readable by its owner only.
    /// Before LMDB maps the lock file, its blocks are allocated on disk
    /// (`posix_fallocate`): LMDB creates it sparse and writes it through the map,
    /// so on a full disk the first touch of a page would kill the process with
    /// SIGBUS instead of failing. After opening, the data file must be as long as
    /// its last commit says, else reading a page past its end would do the same.
    ///
    /// - Throws: ``LMDBError`` when LMDB cannot open the files (`ENOSPC` when
    ///   the lock file finds no room); ``StorageDamage`` when the data file is
    ///   shorter than its pages in use, or empty where `requireData` says it
    ///   must not be (LMDB would take an empty file for a new environment).
    public init(
        path: String,
        mapSize: Int = 256 << 20,
        maxDatabases: Int = 16,
        maxReaders: Int = 126,
        flags: EnvironmentFlags = [],
        mode: mode_t = 0o600,
        maximumGrowth: Int = 4 << 30,
        requireData: Bool = false
    ) throws {
        let subdirectory = !flags.contains(.noSubdirectory)
        let dataPath = subdirectory ? path + "/data.mdb" : path
        if requireData {
            var st = stat()
            if stat(dataPath, &st) == 0, st.st_size == 0 {
                throw StorageDamage("\(dataPath) is empty (0 bytes): its data is lost or was never written")
            }
        }
        if !flags.contains(.readOnly) {
            try Self.allocateLockFile(subdirectory ? path + "/lock.mdb" : path + "-lock", readers: maxReaders, mode: mode)
        }
        _ = FaultGuard.installed
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw LMDBError(code: ENOMEM) }
        // A failed consistency check of LMDB's on a damaged page: [damaged], not abort() (ENOSYS where LMDB has none).
        _ = mdb_env_set_assert(env, FaultGuard.assertion)
        do {
            try check(mdb_env_set_mapsize(env, mapSize))
            try check(mdb_env_set_maxdbs(env, MDB_dbi(maxDatabases)))
            try check(mdb_env_set_maxreaders(env, UInt32(maxReaders)))
            try check(mdb_env_open(env, path, flags.union(.noThreadLocalStorage).rawValue, mode))
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        self.maximumGrowth = maximumGrowth
        var fd: Int32 = -1
        mdb_env_get_fd(env, &fd)
        bounds = MapBounds(descriptor: fd)
        let info = Self.info(env)
        bounds.locate(mapSize: info.mapSize)
        let size = bounds.fileSize()
        if size < info.usedBytes {
            throw StorageDamage("\(dataPath) is cut short: \(size) bytes, but its last commit uses \(info.usedBytes)")
        }
    }

    /// LMDB's lock file holds a header and one 64-byte slot a reader; these are
    /// its sizes for `readers` slots (`mdb_env_setup_locks`).
    static func lockFileSize(readers: Int) -> Int { (readers - 1) * 64 + 192 }

    /// Makes sure the lock file's blocks exist on disk before LMDB maps it.
    static func allocateLockFile(_ path: String, readers: Int, mode: mode_t) throws(LMDBError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { return }  // LMDB will say why it cannot open it
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let rc = posix_fallocate(fd, 0, off_t(max(Int(st.st_size), lockFileSize(readers: readers))))
        if rc == ENOSPC || rc == EFBIG || rc == EDQUOT || rc == EIO { throw LMDBError(code: rc) }
    }

    deinit { mdb_env_close(handle) }

    // MARK: Transactions

    /// Runs `body` in a read-only transaction, which always ends (aborts) when
    /// `body` returns or throws. The transaction sees one consistent snapshot.
    ///
    /// Keep read transactions short: while one is open, LMDB cannot reuse the
    /// pages freed after it began, and the file grows.
    public func read<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        while true {
            do {
                return try readOnce(body)
            } catch let error as LMDBError where error == .mapResized {
                try adoptMapSize()
            }
        }
    }

    private func readOnce<R>(_ body: (borrowing ReadTransaction) throws -> R) throws -> R {
        mapLock.lockShared()
        defer { mapLock.unlock() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn))
        defer { mdb_txn_abort(txn) }
        return try body(ReadTransaction(handle: TransactionHandle(pointer: txn!, bounds: bounds, writes: false)))
    }

    /// Runs `body` in the write transaction and commits when it returns; when it
    /// throws, the transaction is aborted and nothing it wrote remains.
    ///
    /// Only one write transaction exists at a time across all processes (LMDB's
    /// writer lock); others wait. When the map fills, the transaction is rolled
    /// back, the map grows, and `body` runs again: `body` must have no effect
    /// outside the transaction.
    public func write<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        while true {
            do {
                return try writeOnce(body)
            } catch let error as LMDBError where error == .mapFull {
                try growMap()
            } catch let error as LMDBError where error == .mapResized {
                try adoptMapSize()
            }
        }
    }

    private func writeOnce<R>(_ body: (borrowing WriteTransaction) throws -> R) throws -> R {
        mapLock.lockShared()
        defer { mapLock.unlock() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn))
        let result: R
        do {
            result = try body(WriteTransaction(handle: TransactionHandle(pointer: txn!, bounds: bounds, writes: true)))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        // mdb_txn_commit frees the transaction whether it succeeds or fails:
        // never abort after it.
        try check(mdb_txn_commit(txn))
        return result
    }

    // MARK: The map

    /// Doubles the map (by at most ``maximumGrowth``). LMDB allows this only while
    /// this process has no transaction open, hence the exclusive lock.
    private func growMap() throws(LMDBError) {
        mapLock.lockExclusive()
        defer { mapLock.unlock() }
        let current = info.mapSize
        try check(mdb_env_set_mapsize(handle, current + min(current, maximumGrowth)))
        bounds.locate(mapSize: info.mapSize)
    }

    /// Adopts the map size another process set (`mdb_env_set_mapsize` with 0).
    private func adoptMapSize() throws(LMDBError) {
        mapLock.lockExclusive()
        defer { mapLock.unlock() }
        try check(mdb_env_set_mapsize(handle, 0))
        bounds.locate(mapSize: info.mapSize)
    }

    // MARK: Databases

    /// Opens the named database, creating it when `flags` has `.create`.
    ///
    /// The handle is valid for the life of the environment and may be used by
    /// any transaction.
    public func openDatabase(named name: String, flags: DatabaseFlags = []) throws -> Database {
        try openDatabase(name, flags: flags)
    }

    /// The main (unnamed) database, opened without writing.
    public func mainDatabase() throws -> Database {
        try openDatabase(nil, flags: [])
    }

    private func openDatabase(_ name: String?, flags: DatabaseFlags) throws -> Database {
        if let name, flags.contains(.create) {
            return try write { txn in try txn.openDatabase(named: name, flags: flags) }
        }
        // A handle opened in a read transaction becomes shared when that
        // transaction commits (mdb_dbi_open's contract), so commit, not abort.
        mapLock.lockShared()
        defer { mapLock.unlock() }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn))
        var dbi = MDB_dbi()
        let rc = mdb_dbi_open(txn, name, flags.rawValue, &dbi)
        if rc != MDB_SUCCESS {
            mdb_txn_abort(txn)
            throw LMDBError(code: rc)
        }
        try check(mdb_txn_commit(txn))
        return Database(id: dbi, name: name ?? "")
    }

    // MARK: Maintenance and facts

    /// Clears reader slots left by processes that died (`mdb_reader_check`); a
    /// stale slot would keep old pages from being reused. Returns how many were cleared.
    @discardableResult
    public func clearStaleReaders() throws(LMDBError) -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(handle, &dead))
        return Int(dead)
    }

    /// Flushes the data to disk (`mdb_env_sync` with force): needed only when the
    /// environment was opened with `.noSync` or `.noMetaSync`.
    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(handle, 1))
    }

    /// Runs `body` with this process's commits not synced (`MDB_NOSYNC`), then
    /// flushes once: for bulk writes that nothing points at until a later,
    /// synced commit does (a rebuild's new slot). A crash meanwhile loses only
    /// those writes; the environment stays intact (LMDB's meta pages are
    /// written after the data they point at). Other processes are not affected.
    public func withoutSyncing<R>(_ body: () throws -> R) throws -> R {
        try check(mdb_env_set_flags(handle, UInt32(MDB_NOSYNC), 1))
        defer { mdb_env_set_flags(handle, UInt32(MDB_NOSYNC), 0) }
        let result = try body()
        try sync()
        return result
    }

    /// Writes a consistent copy of the environment to `directory` (which must exist
    /// and be empty) while other transactions go on. The copy is readable by its
    /// owner only, like the environment's own files (LMDB would create it with the
    /// process's umask).
    public func copy(to directory: String, flags: CopyFlags = []) throws(LMDBError) {
        let previous = umask(0o077)
        defer { umask(previous) }
        try check(mdb_env_copy2(handle, directory, flags.rawValue))
        let file = directory + "/data.mdb"
        chmod(file, 0o600)
        // LMDB syncs the copy's data but not its directory entry.
        try syncFile(file)
        try syncFile(directory)
    }

    /// The map's size and use.
    public var info: EnvironmentInfo { Self.info(handle) }

    static func info(_ handle: OpaquePointer) -> EnvironmentInfo {
        var raw = MDB_envinfo()
        var stat = MDB_stat()
        mdb_env_info(handle, &raw)
        mdb_env_stat(handle, &stat)
        return EnvironmentInfo(
            mapSize: raw.me_mapsize,
            pageSize: Int(stat.ms_psize),
            lastPage: Int(raw.me_last_pgno),
            lastTransaction: Int(raw.me_last_txnid),
            maxReaders: Int(raw.me_maxreaders),
            readers: Int(raw.me_numreaders)
        )
    }
}

/// Facts about an ``Environment``'s map (`mdb_env_info`, `mdb_env_stat`).
public struct EnvironmentInfo: Sendable, Hashable {
    /// The size of the memory map in bytes.
    public var mapSize: Int
    /// The page size in bytes.
    public var pageSize: Int
    /// The last page number in use; `(lastPage + 1) * pageSize` bytes of the map are used.
    public var lastPage: Int
    /// The id of the last committed transaction.
    public var lastTransaction: Int
    public var maxReaders: Int
    /// Reader slots in use (including stale ones).
    public var readers: Int

    /// Bytes of the map in use.
    public var usedBytes: Int { (lastPage + 1) * pageSize }
}

/// Syncs a file or a directory (its entries) to disk.
public func syncFile(_ path: String) throws(LMDBError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw LMDBError(code: errno) }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw LMDBError(code: errno) }
}

/// The lines of this process's memory map (`/proc/self/maps`) that contain
/// `text`, each with its address range and its fields ("start-end perms offset
/// dev inode path"); lines without it are skipped before any string is made.
func processMappings(containing text: String) -> [(start: UInt, end: UInt, fields: [Substring])] {
    guard let maps = fopen("/proc/self/maps", "r") else { return [] }
    defer { fclose(maps) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    var found: [(start: UInt, end: UInt, fields: [Substring])] = []
    while getline(&line, &capacity, maps) > 0, let line {
        guard strstr(line, text) != nil else { continue }
        let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: true)
        let range = fields.first?.split(separator: "-") ?? []
        guard range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16) else { continue }
        found.append((low, high, fields))
    }
    return found
}

/// A data file that is not what its environment says: cut short, emptied, or
/// a value lent by LMDB that lies outside the file (a damaged page).
public struct StorageDamage: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where an environment's data file is mapped and how long the file is, so a
/// transaction can refuse to lend memory outside it: a damaged page can name a
/// value past the map's end (SIGSEGV) or past the file's (SIGBUS).
final class MapBounds: @unchecked Sendable {
    // @unchecked Sendable: `start` and `length` change only while the map is
    // being resized, under the environment's exclusive map lock, when no
    // transaction of this process is open; `fileBytes` is atomic.
    private(set) var start: UInt = 0
    private(set) var length: UInt = 0
    private let fileBytes = Atomic<Int>(0)
    private let descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
        fileSize()
    }

    /// The data file's size now (and remembered).
    @discardableResult
    func fileSize() -> Int {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return 0 }
        fileBytes.store(Int(st.st_size), ordering: .relaxed)
        return Int(st.st_size)
    }

    /// Finds the map of the data file in this process's mappings (by its inode,
    /// at file offset 0).
    func locate(mapSize: Int) {
        var st = stat()
        guard fstat(descriptor, &st) == 0,
              let map = processMappings(containing: " \(st.st_ino) ").first(where: { $0.fields.count >= 6 && UInt64($0.fields[4]) == UInt64(st.st_ino) && $0.fields[2] == "00000000" })
        else { return }
        start = map.start
        length = max(map.end - map.start, UInt(mapSize))
        FaultGuard.add(start, start + length)
    }

    /// Whether `count` bytes at `pointer`, lent by a transaction, lie where they may.
    /// In a read transaction every page is in the map and must be in the file;
    /// a write transaction's own new pages are in memory outside the map.
    @inline(__always)
    func contains(_ pointer: UnsafeMutableRawPointer?, count: Int, writes: Bool) -> Bool {
        guard length > 0 else { return true }  // not located: cannot check
        let low = UInt(bitPattern: pointer)
        let (high, overflow) = low.addingReportingOverflow(UInt(bitPattern: count))
        guard !overflow else { return false }
        guard low >= start, low < start &+ length else { return writes }
        if high <= start &+ UInt(fileBytes.load(ordering: .relaxed)) { return true }
        return high <= start &+ UInt(fileSize())  // another process may have grown the file since
    }
}

/// A pthread read-write lock on the heap (a pthread lock must not move in memory).
final class ReadWriteLock: @unchecked Sendable {
    // @unchecked Sendable: the pthread lock is itself the synchronisation.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func lockShared() { pthread_rwlock_rdlock(lock) }
    func lockExclusive() { pthread_rwlock_wrlock(lock) }
    func unlock() { pthread_rwlock_unlock(lock) }
}
