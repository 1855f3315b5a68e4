import CLMDB

/// Flags for opening an ``Environment``; raw values are LMDB's `MDB_*` constants.
public struct EnvironmentFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_NOSUBDIR`: the path is the data file itself, not a directory.
    public static let noSubdirectory = EnvironmentFlags(rawValue: UInt32(MDB_NOSUBDIR))
    /// `MDB_RDONLY`: open read-only.
    public static let readOnly = EnvironmentFlags(rawValue: UInt32(MDB_RDONLY))
    /// `MDB_NOSYNC`: do not fsync on commit (loses durability; for benchmarks only).
    public static let noSync = EnvironmentFlags(rawValue: UInt32(MDB_NOSYNC))
    /// `MDB_NOMETASYNC`: fsync data but not the meta page on commit.
    public static let noMetaSync = EnvironmentFlags(rawValue: UInt32(MDB_NOMETASYNC))
    /// `MDB_NOTLS`: reader slots belong to transactions, not threads; required when
    /// transactions may run on any thread, as Swift concurrency does.
    public static let noThreadLocalStorage = EnvironmentFlags(rawValue: UInt32(MDB_NOTLS))
    /// `MDB_NORDAHEAD`: no OS read-ahead; helps random reads of a store larger than memory.
    public static let noReadAhead = EnvironmentFlags(rawValue: UInt32(MDB_NORDAHEAD))
}

/// Flags for opening a named ``Database``; raw values are LMDB's `MDB_*` constants.
public struct DatabaseFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_CREATE`: create the database when it is missing (needs a write transaction).
    public static let create = DatabaseFlags(rawValue: UInt32(MDB_CREATE))
    /// `MDB_INTEGERKEY`: keys are native-endian unsigned integers of one size.
    public static let integerKey = DatabaseFlags(rawValue: UInt32(MDB_INTEGERKEY))
    /// `MDB_DUPSORT`: a key may hold several sorted values.
    public static let duplicateSort = DatabaseFlags(rawValue: UInt32(MDB_DUPSORT))
}

/// Flags for ``WriteTransaction/put(_:key:value:flags:)``; raw values are LMDB's constants.
public struct PutFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_NOOVERWRITE`: fail with ``LMDBError/keyExists`` when the key is present.
    public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    /// `MDB_APPEND`: the key sorts after every key in the database (fast bulk load);
    /// LMDB answers ``LMDBError/keyExists`` when it does not.
    public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
}

/// Flags for ``Environment/copy(to:flags:)``; raw values are LMDB's constants.
public struct CopyFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_CP_COMPACT`: omit free pages and renumber, giving a smaller, defragmented copy.
    public static let compact = CopyFlags(rawValue: UInt32(MDB_CP_COMPACT))
}
