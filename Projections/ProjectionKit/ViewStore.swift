import BinaryCodable
import EventLog
import Foundation
import LMDB

/// Where a projection stands: the last log position folded into its active view.
public struct Checkpoint: Hashable, Sendable, Codable {
    /// The last position folded (0: none).
    public var position: UInt64 = 0
    /// Which of the two view slots is active (a rebuild fills the other, then swaps).
    public var generation: UInt64 = 0
    /// Set when an event could not be handled: the projection stops there.
    public var stoppedAt: UInt64?
    public var reason: String?
    /// The encoding of the values (``ViewStore/valueFormat``); a read model of
    /// another format is rebuilt before it is read.
    public var format: Int?

    public init() {}
}

/// The read models of one store: an LMDB environment in the store's
/// `projections/` directory, apart from the log, so that appending never waits
/// for a projection's writer.
///
/// Per projection there are two view databases (`<name>#0`, `<name>#1`), of which
/// the checkpoint names the active one, and a checkpoint in `checkpoints`.
public final class ViewStore: Sendable {
    let environment: Environment
    let checkpoints: Database
    private let slots: [String: [Database]]

    /// Opens (creating) the views of the store at `directory`.
    public init(directory: String, projections names: [String]) throws {
        let path = directory + "/projections"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        environment = try Environment(path: path, mapSize: 256 << 20, maxDatabases: 2 * names.count + 4)
        try environment.clearStaleReaders()
        let opened = try environment.write { txn -> (Database, [String: [Database]]) in
            let checkpoints = try txn.openDatabase(named: "checkpoints", flags: .create)
            var slots: [String: [Database]] = [:]
            for name in names {
                slots[name] = try (0..<2).map { try txn.openDatabase(named: "\(name)#\($0)", flags: .create) }
            }
            return (checkpoints, slots)
        }
        (checkpoints, slots) = opened
    }

    /// The encoding of view values: 5 is their compact form (``CompactCodable``)
    /// with a deviation's `notBefore` and the intervals a denial stopped; 4 the
    /// compact form before them; 3 was `BinaryCoder`, a `Codable` coder, 1 JSON.
    public static let valueFormat = 5

    static func encode<V: CompactCodable>(_ value: V) -> [UInt8] { value.compactBytes }
    static func decode<V: CompactCodable>(_ type: V.Type, _ bytes: UnsafeRawBufferPointer) throws -> V { try V(compactBytes: bytes) }

    /// Writes encoded values (nil deletes the key) into a slot.
    static func write(_ changes: [(key: String, bytes: [UInt8]?)], to slot: Database, _ txn: borrowing WriteTransaction) throws {
        for change in changes {
            if let bytes = change.bytes {
                try txn.put(slot, key: Array(change.key.utf8), value: bytes)
            } else {
                try txn.delete(slot, key: Array(change.key.utf8))
            }
        }
    }

    func slot(_ name: String, _ generation: UInt64) -> Database { slots[name]![Int(generation % 2)] }

    func checkpoint(_ txn: borrowing some Transaction & ~Copyable, _ name: String) throws -> Checkpoint {
        guard let bytes = try txn.get(checkpoints, key: Array(name.utf8)) else { return Checkpoint() }
        return try JSONDecoder().decode(Checkpoint.self, from: Data(bytes))
    }

    func setCheckpoint(_ txn: borrowing WriteTransaction, _ name: String, _ checkpoint: Checkpoint) throws {
        try txn.put(checkpoints, key: Array(name.utf8), value: Array(try JSONEncoder().encode(checkpoint)))
    }

    /// The projection's checkpoint.
    public func checkpoint(_ name: String) throws -> Checkpoint {
        try environment.read { txn in try checkpoint(txn, name) }
    }

    /// The value under `key` in the projection's active view.
    public func value<V: CompactCodable>(_ type: V.Type, projection name: String, key: String) throws -> V? {
        try environment.read { txn in
            let cp = try checkpoint(txn, name)
            return try txn.withValue(slot(name, cp.generation), key: Array(key.utf8)) { try Self.decode(V.self, $0) }
        }
    }

    /// Every key and value of the projection's active view, in key order, from
    /// one consistent snapshot; `prefix` filters keys.
    public func values<V: CompactCodable>(_ type: V.Type, projection name: String, prefix: String = "") throws -> [(key: String, value: V)] {
        try environment.read { txn in
            let cp = try checkpoint(txn, name)
            let p = Array(prefix.utf8)
            var out: [(String, V)] = []
            try txn.scan(slot(name, cp.generation), from: p.isEmpty ? nil : p) { key, value in
                guard key.starts(with: p) else { return false }
                out.append((String(decoding: key, as: UTF8.self), try Self.decode(V.self, value)))
                return true
            }
            return out
        }
    }
}

extension ViewStore {
    /// Writes a consistent, compacted copy of the read models to `directory`'s `projections/`.
    public func backup(to directory: String) throws {
        let target = directory + "/projections"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(target, 0o700)
        try environment.copy(to: target, flags: .compact)
    }
}
