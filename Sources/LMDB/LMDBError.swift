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

/// An error returned by LMDB: its return code and LMDB's own message for it.
///
/// Every LMDB call goes through ``check(_:)``, so every failure of the C library
/// reaches Swift as this one type. Domain errors (a refused rule, a version
/// conflict) do not belong here; they live with the event log and the domain.
public struct LMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The C return code (an `MDB_*` error or an `errno` value).
    public let code: Int32

    public init(code: Int32) { self.code = code }

    /// `MDB_NOTFOUND`: no such key, or the cursor ran off the end.
    public static let notFound = LMDBError(code: MDB_NOTFOUND)
    /// `MDB_KEYEXIST`: a put with `noOverwrite` met an existing key.
    public static let keyExists = LMDBError(code: MDB_KEYEXIST)
    /// `MDB_MAP_FULL`: the memory map is full; the environment grows it and retries.
    public static let mapFull = LMDBError(code: MDB_MAP_FULL)
    /// `MDB_MAP_RESIZED`: another process grew the map; the environment adopts it and retries.
    public static let mapResized = LMDBError(code: MDB_MAP_RESIZED)
    /// `MDB_READERS_FULL`: every reader slot is taken.
    public static let readersFull = LMDBError(code: MDB_READERS_FULL)
    /// `MDB_DBS_FULL`: more named databases than the environment was opened for.
    public static let databasesFull = LMDBError(code: MDB_DBS_FULL)
    /// `MDB_CORRUPTED`: a page had the wrong type.
    public static let corrupted = LMDBError(code: MDB_CORRUPTED)
    /// `MDB_PAGE_NOTFOUND`: a page number points past the data (a damaged file).
    public static let pageNotFound = LMDBError(code: MDB_PAGE_NOTFOUND)
    /// `MDB_VERSION_MISMATCH`: the file was written by another version of LMDB.
    public static let versionMismatch = LMDBError(code: MDB_VERSION_MISMATCH)
    /// `MDB_INVALID`: the file is not an LMDB file.
    public static let invalid = LMDBError(code: MDB_INVALID)
    /// `ENOSPC`: the disk is full.
    public static let noSpace = LMDBError(code: ENOSPC)

    /// `errno` values that mean there is no room: the disk, the quota or the
    /// file size limit is full.
    public static let noSpaceCodes: Set<Int32> = [ENOSPC, EFBIG, EDQUOT]

    /// There was no room to write (``noSpaceCodes``).
    public var meansDiskFull: Bool { Self.noSpaceCodes.contains(code) }

    /// LMDB found the file damaged (or not an LMDB file of this version).
    public var meansDamage: Bool { [Self.corrupted, .invalid, .pageNotFound, .versionMismatch].contains(self) }

    /// LMDB's message for the code (`mdb_strerror`), which covers `errno` values too.
    public var message: String { String(cString: mdb_strerror(code)) }

    public var description: String { "LMDB error \(code): \(message)" }
}

/// Turns an LMDB return code into a thrown ``LMDBError``.
@inline(__always)
func check(_ code: Int32) throws(LMDBError) {
    if code != MDB_SUCCESS { throw LMDBError(code: code) }
}
