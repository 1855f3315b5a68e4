import Crypto
import Foundation
import JSON
import LMDB
import Synchronization

/// The store's per-person keys (crypto-shredding): personal values in events
/// are sealed with AES-256-GCM under the key of the person the case is about,
/// and erasing the person means destroying that key.
///
/// The keys live in one file of their own, `keys/person.keys`, never in LMDB:
/// LMDB copies a page on write and leaves the old one among its free pages, so
/// a key deleted there would stay on disk until the page happened to be reused.
/// The file is a 64-byte header and then one 32-byte slot a key, slot `n` (from
/// 0) at offset `64 + 32 · n`; erasing overwrites the slot in place with
/// ``erasedMarker`` and syncs it. Which slot belongs to whom is the domain's
/// business (docs/STORAGE.md).
///
/// A slot below the log's counter (`keys/next`) that holds zeros or lies past
/// the end of the file is *missing*: its key was lost, which is damage, never
/// an erasure. So the file is created only with a new store, and a store whose
/// key file is gone or cut short is refused instead of being given a new one.
/// (Format 1 files wrote zeros for an erasure; the first writer to open one
/// marks those slots and records their erasure: ``EventStore``.)
///
/// Slots are handed out inside the log's write transaction (the counter is in
/// the log's main database), so a slot is used by one writer at a time; a key
/// written for a transaction that then failed is simply overwritten by the next one.
public final class PersonKeys: Sendable {
    /// One slot's size: an AES-256 key.
    public static let keySize = 32
    static let headerSize = 64
    static let legacyMagic = Array("iplog person keys 1\n".utf8)
    static let magic = Array("iplog person keys 2\n".utf8)
    /// What an erased slot holds: 32 fixed bytes, which a random key is not.
    static let erasedMarker = Array("iplog: this key was erased.\n".utf8) + [UInt8](repeating: 0xFF, count: 4)

    public let path: String
    /// -1 when there is no file: no key has been handed out and the command only reads.
    private let fd: Int32
    /// A format-1 file: zeros in a slot mean erased.
    let isLegacy: Bool

    /// Opens the key file of the store at `directory`, of which the log has
    /// handed out `keysGiven` slots.
    ///
    /// - Parameters:
    ///   - create: make the file when it is missing and no key was handed out.
    ///   - allowDamage: open a missing or short file anyway (for `verify`, which
    ///     then names the missing slots) instead of refusing it.
    /// - Throws: ``LogError`` `.damaged` when the file is missing or shorter than
    ///   the keys handed out, or is not a key file.
    public init(directory: String, keysGiven: UInt32, create: Bool, allowDamage: Bool = false) throws {
        let dir = directory + "/keys"
        path = dir + "/person.keys"
        let restore = "restore keys/person.keys from the backup taken with the log; never make a new one"
        guard let size = StoreDirectory.size(path) else {
            if keysGiven > 0 {
                guard allowDamage else {
                    throw LogError(.damaged, "the key file keys/person.keys is missing although the log has handed out \(keysGiven) person keys: their sealed values cannot be read; \(restore)")
                }
                fd = -1
                isLegacy = false
                return
            }
            guard create else {
                fd = -1  // no person has a key yet, and a command that reads makes nothing
                isLegacy = false
                return
            }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw LogError(.damaged, "the key file \(path) cannot be created: \(String(cString: strerror(errno)))") }
            isLegacy = false
            try writeHeader()
            do { try syncFile(dir) } catch { throw keyFileError("synced") }
            return
        }
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LogError(.damaged, "the key file \(path) cannot be opened: \(String(cString: strerror(errno)))") }
        if size == 0 && keysGiven == 0 && create {
            isLegacy = false  // made by a creation that was cut short before its header
            try writeHeader()
            return
        }
        var header = [UInt8](repeating: 0, count: Self.magic.count)
        guard size >= Self.headerSize, pread(fd, &header, header.count, 0) == header.count,
              header == Self.magic || header == Self.legacyMagic else {
            close(fd)
            throw LogError(.damaged, "\(path) is not an iplog key file (\(size) bytes); \(restore)")
        }
        isLegacy = header == Self.legacyMagic
        let held = (size - Self.headerSize) / Self.keySize
        if held < Int(keysGiven) && !allowDamage {
            // Not closed here: every property is set, so deinit runs and closes
            // it (closing it twice could close a descriptor opened meanwhile).
            throw LogError(.damaged, "the key file keys/person.keys is cut short: it holds \(held) of the \(keysGiven) person keys the log has handed out; \(restore)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    private func writeHeader() throws {
        try write(Self.magic + [UInt8](repeating: 0, count: Self.headerSize - Self.magic.count), at: 0)
        try sync()
    }

    static func offset(_ slot: UInt32) -> off_t { off_t(headerSize) + off_t(slot) * off_t(keySize) }

    /// What a slot holds.
    public enum Slot {
        case key(SymmetricKey)
        /// The key was destroyed by an erasure.
        case erased
        /// Zeros or past the end of the file: the key is not there (a damaged or
        /// incomplete store).
        case missing
    }

    /// The key in `slot`.
    public func slot(_ slot: UInt32) throws -> Slot {
        guard fd >= 0 else { return .missing }
        var bytes = [UInt8](repeating: 0, count: Self.keySize)
        let n = pread(fd, &bytes, Self.keySize, Self.offset(slot))
        if n < 0 { throw LogError(.damaged, "the key file cannot be read: \(String(cString: strerror(errno)))") }
        if n < Self.keySize { return .missing }
        if bytes == Self.erasedMarker { return .erased }
        if bytes.allSatisfy({ $0 == 0 }) { return isLegacy ? .erased : .missing }
        return .key(SymmetricKey(data: bytes))
    }

    /// Keys written ahead at a time: a new person's key is usually on disk
    /// already, so an application costs no second sync (one in this many does).
    static let keysAhead: UInt32 = 64

    /// The key for the newly allocated `slot`: the one written ahead into it,
    /// or, past the end of the file, a fresh one with ``keysAhead`` more after
    /// it (then `written` is true and the file must be synced before the events
    /// sealed with it commit). Slots at and past the log's counter belong to no
    /// committed event, so keys written ahead by a transaction that failed are
    /// simply used by the next one.
    func key(forNew slot: UInt32) throws -> (key: SymmetricKey, written: Bool) {
        guard fd >= 0 else { throw LogError(.damaged, "the store has no key file") }
        if case .key(let key) = try self.slot(slot) { return (key, false) }
        let count = Int(min(Self.keysAhead, UInt32.max - slot))
        let bytes = SecureRandom.bytes(count * Self.keySize)
            ?? (0..<count).flatMap { _ in SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) } }
        try write(bytes, at: Self.offset(slot))
        return (SymmetricKey(data: bytes[0..<Self.keySize]), true)
    }

    /// Overwrites `slot` in place with ``erasedMarker`` and syncs the file.
    /// (Keys written ahead past the log's counter are not anyone's yet.)
    public func erase(_ slot: UInt32) throws {
        guard fd >= 0, let size = StoreDirectory.size(path), Self.offset(slot) + off_t(Self.keySize) <= size else { return }
        try write(Self.erasedMarker, at: Self.offset(slot))
        try sync()
    }

    /// Brings a format-1 file to format 2: its zero slots below `keysGiven` (the
    /// erasures of older versions) get the marker, then the header says 2.
    /// Returns the slots marked.
    func upgrade(keysGiven: UInt32) throws -> [UInt32] {
        guard isLegacy, fd >= 0 else { return [] }
        var marked: [UInt32] = []
        for slot in 0..<keysGiven {
            var bytes = [UInt8](repeating: 0xAA, count: Self.keySize)
            guard pread(fd, &bytes, Self.keySize, Self.offset(slot)) == Self.keySize else { break }
            if bytes.allSatisfy({ $0 == 0 }) {
                try write(Self.erasedMarker, at: Self.offset(slot))
                marked.append(slot)
            }
        }
        try sync()
        try writeHeader()
        return marked
    }

    /// Makes written keys durable (before the log commits the events sealed with them).
    public func sync() throws {
        guard fsync(fd) == 0 else { throw keyFileError("synced") }
    }

    private func write(_ bytes: [UInt8], at offset: off_t) throws {
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
        guard n == bytes.count else { throw keyFileError("written") }
    }

    private func keyFileError(_ what: String) -> Error {
        let code = errno
        if LMDBError.noSpaceCodes.contains(code) {
            return LogError(.diskFull, "the key file could not be \(what) (\(String(cString: strerror(code)))): nothing of this batch was written; free space and run the command again")
        }
        return LogError(.damaged, "the key file could not be \(what): \(String(cString: strerror(code)))")
    }

    /// A consistent copy of the key file at `target` (mode 0600, synced), for a
    /// backup taken after the log's copy: it holds every key the copied log uses.
    func copy(to target: String) throws {
        let dir = target + "/keys"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(dir, 0o700)
        guard fd >= 0 else { return }
        var st = stat()
        fstat(fd, &st)
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        guard pread(fd, &bytes, bytes.count, 0) == bytes.count else { throw keyFileError("read") }
        let out = open(dir + "/person.keys", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw keyFileError("copied") }
        defer { close(out) }
        fchmod(out, 0o600)
        let n = bytes.withUnsafeBytes { pwrite(out, $0.baseAddress, $0.count, 0) }
        guard n == bytes.count, fsync(out) == 0 else { throw keyFileError("copied") }
        do { try syncFile(dir) } catch { throw keyFileError("copied") }
    }
}

/// The sealed part of a record: the key's slot and AES-GCM's combined box
/// (nonce ‖ ciphertext ‖ tag) of the sealed strings, packed as a JSON array.
public struct SealedValues: Hashable, Sendable {
    public var slot: UInt32
    public var box: [UInt8]

    public init(slot: UInt32, box: [UInt8]) {
        self.slot = slot
        self.box = box
    }

    /// Seals `strings` for the event `eventID` (the id is authenticated, so a box
    /// cannot be moved to another event).
    static func seal(_ strings: [String], key: SymmetricKey, slot: UInt32, eventID: EventID) throws -> SealedValues {
        let plain = PackedJSON.encode(.array(strings.map(JSONValue.string)))
        let box = try AES.GCM.seal(plain, using: key, nonce: SecureRandom.nonce(), authenticating: eventID.byteArray)
        return SealedValues(slot: slot, box: Array(box.combined!))
    }

    /// The sealed strings, or nil when `key` does not open the box.
    func open(key: SymmetricKey, eventID: EventID) -> [String]? {
        guard let box = try? AES.GCM.SealedBox(combined: self.box),
              let plain = try? AES.GCM.open(box, using: key, authenticating: eventID.byteArray),
              case .array(let items)? = try? PackedJSON.decode(Array(plain))
        else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }
}

/// Random bytes for keys and nonces from the system's generator, read 4 KB at a
/// time: an import seals about one event in four and makes a key for each new
/// person, and a system call for each was a percent of its time. Bytes are
/// handed out once and wiped from the pool as they leave.
enum SecureRandom {
    private static let pool = Mutex<(bytes: [UInt8], used: Int, source: Int32)>(([], 0, -1))

    /// `count` (at most 4,096) random bytes, or nil when the system's generator cannot be read.
    static func bytes(_ count: Int) -> [UInt8]? {
        pool.withLock { pool -> [UInt8]? in
            if pool.used + count > pool.bytes.count {
                if pool.source < 0 { pool.source = open("/dev/urandom", O_RDONLY | O_CLOEXEC) }
                pool.bytes = [UInt8](repeating: 0, count: 4096)
                pool.used = 0
                var filled = 0
                while filled < pool.bytes.count {
                    let n = pool.bytes.withUnsafeMutableBytes { read(pool.source, $0.baseAddress! + filled, $0.count - filled) }
                    if n <= 0 { pool.bytes = []; return nil }
                    filled += n
                }
            }
            guard pool.used + count <= pool.bytes.count else { return nil }
            let range = pool.used..<pool.used + count
            defer {
                for i in range { pool.bytes[i] = 0 }
                pool.used += count
            }
            return Array(pool.bytes[range])
        }
    }

    /// A nonce for AES-GCM (the library's own when the pool fails).
    static func nonce() -> AES.GCM.Nonce {
        bytes(12).flatMap { try? AES.GCM.Nonce(data: $0) } ?? AES.GCM.Nonce()
    }

}

/// What a policy asks the log to seal in one event: the strings `fields` names,
/// under the key in `slot`.
public struct Sealing {
    public var fields: SealedFields
    public var slot: UInt32
    public var key: SymmetricKey

    public init(fields: SealedFields, slot: UInt32, key: SymmetricKey) {
        self.fields = fields
        self.slot = slot
        self.key = key
    }
}

extension PersonKeys {
    /// The strings sealed in `sealed`, or nil when the key is erased.
    /// - Throws: ``LogError`` `.damaged` when the key is missing or does not open them.
    public func unseal(_ sealed: SealedValues, eventID: EventID, position: UInt64) throws -> [String]? {
        switch try slot(sealed.slot) {
        case .erased:
            return nil
        case .missing:
            throw LogError(.damaged, "position \(position): key slot \(sealed.slot) is missing from the key file")
        case .key(let key):
            guard let strings = sealed.open(key: key, eventID: eventID) else {
                throw LogError(.damaged, "position \(position): the sealed values do not open with their key")
            }
            return strings
        }
    }
}
