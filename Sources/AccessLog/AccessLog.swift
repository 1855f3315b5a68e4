import Crypto
import EventLog
import Foundation
import JSON
import LMDB

/// Who has read whose data (Normen; helsepersonelloven §21a): every command that
/// shows a person's case records who, when, what and why, so the person can be
/// told who has read their data.
///
/// The access log is an LMDB environment of its own in the store's `access/`
/// directory, apart from the event log. Entries name the command and what it
/// showed (a stream id or the filters of a list), never a person id; the index
/// from a person to the entries that showed them is keyed by an HMAC of the
/// person id under a random per-store key, so no person id is stored in clear.
public final class AccessLog: Sendable {
    /// One read.
    public struct Entry: Hashable, Sendable, Codable {
        /// UTC time of the read, ISO 8601.
        public var at: String
        /// Who read (`--actor`, `$IPLOG_ACTOR`, else the OS user).
        public var actor: String
        /// The command, e.g. `history`, `cases`, `export`.
        public var command: String
        /// What it showed: a stream id, or the filters of a list.
        public var subject: String
        /// Why (`--reason`), when given.
        public var reason: String?
        /// How many people's data it showed.
        public var persons: Int
        /// Whether it showed their person ids in full (nil: recorded before this was kept).
        public var personIdsShown: Bool?
    }

    let environment: Environment
    let entries: Database
    let byPerson: Database
    let meta: Database
    private let secret: [UInt8]

    /// Opens (creating) the access log of the store at `directory`.
    public init(directory: String) throws {
        let path = directory + "/access"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        do {
            // An emptied data file would otherwise start a new, empty access log.
            environment = try EventStore.reportingFullDisk(Self.what) {
                try Environment(path: path, mapSize: 64 << 20, maxDatabases: 4, requireData: true)
            }
        } catch let damage as StorageDamage {
            throw LogError(.damaged, "the access log: \(damage.message); restore access/ from a backup")
        }
        try environment.clearStaleReaders()
        (entries, byPerson, meta, secret) = try environment.write { txn in
            let e = try txn.openDatabase(named: "entries", flags: .create)
            let p = try txn.openDatabase(named: "byPerson", flags: .create)
            let m = try txn.openDatabase(named: "meta", flags: .create)
            let key = Array("secret".utf8)
            if let secret = try txn.get(m, key: key) { return (e, p, m, secret) }
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try txn.put(m, key: key, value: secret)
            return (e, p, m, secret)
        }
    }

    func personKey(_ person: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(person.utf8), using: SymmetricKey(data: secret)))
    }

    /// How errors name it.
    static let what = "the access log"

    /// The person's key in this access log's index (an HMAC under the log's own
    /// secret, not the id): what ``forget(accessKey:)`` takes.
    public func accessKey(forPerson person: String) -> [UInt8] {
        personKey(person)
    }

    /// Records one read that showed `persons`' data. Durable before it returns.
    ///
    /// - Parameters:
    ///   - at: the entry's time in µs since the epoch (default: now).
    ///   - once: write nothing when an entry of that time with the same content
    ///     is there already (finishing an erasure whose record may have been
    ///     written before the process was stopped).
    public func record(actor: String, command: String, subject: String, reason: String?, persons: some Collection<String>,
                       personIdsShown: Bool = false, at: Int64? = nil, once: Bool = false) throws {
        let micros = at ?? EventStore.systemClock().microsecondsSinceEpoch
        let entry = Entry(at: Timestamp(microsecondsSinceEpoch: micros).description, actor: actor, command: command, subject: subject,
                          reason: reason, persons: Set(persons).count, personIdsShown: persons.isEmpty ? nil : personIdsShown)
        // Sorted keys: the same entry is the same bytes, which `once` compares.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = Array(try encoder.encode(entry))
        try EventStore.reportingFullDisk(Self.what) { try environment.write { txn in
            // Key: the time, then a sequence number for reads in the same microsecond.
            var key = withUnsafeBytes(of: UInt64(bitPattern: micros).bigEndian) { Array($0) }
            var sequence: UInt32 = 0
            while let existing = try txn.get(entries, key: key + withUnsafeBytes(of: sequence.bigEndian) { Array($0) }) {
                if once && existing == body { return }
                sequence += 1
            }
            key += withUnsafeBytes(of: sequence.bigEndian) { Array($0) }
            try txn.put(entries, key: key, value: body)
            for person in Set(persons) {
                try txn.put(byPerson, key: personKey(person) + key, value: [UInt8]())
            }
        } }
    }

    /// Removes the index from `person` to the reads that showed their data (at
    /// their erasure): the reads stay, naming streams only.
    public func forget(person: String) throws {
        try forget(prefix: personKey(person))
    }

    /// ``forget(person:)`` by the person's ``accessKey(forPerson:)``.
    public func forget(accessKey: [UInt8]) throws {
        guard accessKey.count == 32 else { throw LogError(.damaged, "a pending erasure's access-log key is damaged") }
        try forget(prefix: accessKey)
    }

    private func forget(prefix: [UInt8]) throws {
        try EventStore.reportingFullDisk(Self.what) { try environment.write { txn in
            var keys: [[UInt8]] = []
            try txn.scan(byPerson, from: prefix) { key, _ in
                guard key.starts(with: prefix) else { return false }
                keys.append(Array(key))
                return true
            }
            for key in keys { try txn.delete(byPerson, key: key) }
        } }
    }

    /// Writes a consistent, compacted copy of the access log to `directory`'s `access/`.
    public func backup(to directory: String) throws {
        let target = directory + "/access"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(target, 0o700)
        try EventStore.reportingFullDisk(Self.what) { try environment.copy(to: target, flags: .compact) }
    }

    /// Every recorded read that showed `person`'s data, oldest first.
    public func entries(forPerson person: String) throws -> [Entry] {
        let prefix = personKey(person)
        return try environment.read { txn in
            var keys: [[UInt8]] = []
            try txn.scan(byPerson, from: prefix) { key, _ in
                guard key.starts(with: prefix) else { return false }
                keys.append(Array(key[prefix.count...]))
                return true
            }
            return try keys.compactMap { key in
                try txn.get(entries, key: key).map { try JSONDecoder().decode(Entry.self, from: Data($0)) }
            }
        }
    }

    /// Every recorded read, oldest first (for audits of the access log itself).
    public func allEntries() throws -> [Entry] {
        try environment.read { txn in
            var out: [Entry] = []
            try txn.scan(entries) { _, value in
                out.append(try JSONDecoder().decode(Entry.self, from: Data(value)))
                return true
            }
            return out
        }
    }
}
