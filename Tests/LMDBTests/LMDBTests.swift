import CLMDB
import Foundation
import Testing
@testable import LMDB

/// A fresh directory for one test, removed when it ends.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lmdb-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

struct FlagTests {
    @Test func environmentFlagsAreLMDBsConstants() {
        #expect(EnvironmentFlags.noSubdirectory.rawValue == UInt32(MDB_NOSUBDIR))
        #expect(EnvironmentFlags.readOnly.rawValue == UInt32(MDB_RDONLY))
        #expect(EnvironmentFlags.noSync.rawValue == UInt32(MDB_NOSYNC))
        #expect(EnvironmentFlags.noMetaSync.rawValue == UInt32(MDB_NOMETASYNC))
        #expect(EnvironmentFlags.noThreadLocalStorage.rawValue == UInt32(MDB_NOTLS))
        #expect(EnvironmentFlags.noReadAhead.rawValue == UInt32(MDB_NORDAHEAD))
    }

    @Test func databasePutAndCopyFlagsAreLMDBsConstants() {
        #expect(DatabaseFlags.create.rawValue == UInt32(MDB_CREATE))
        #expect(DatabaseFlags.integerKey.rawValue == UInt32(MDB_INTEGERKEY))
        #expect(DatabaseFlags.duplicateSort.rawValue == UInt32(MDB_DUPSORT))
        #expect(PutFlags.noOverwrite.rawValue == UInt32(MDB_NOOVERWRITE))
        #expect(PutFlags.append.rawValue == UInt32(MDB_APPEND))
        #expect(CopyFlags.compact.rawValue == UInt32(MDB_CP_COMPACT))
    }

    @Test func errorConstantsAreLMDBsCodes() {
        #expect(LMDBError.notFound.code == MDB_NOTFOUND)
        #expect(LMDBError.keyExists.code == MDB_KEYEXIST)
        #expect(LMDBError.mapFull.code == MDB_MAP_FULL)
        #expect(LMDBError.mapResized.code == MDB_MAP_RESIZED)
    }
}

struct EnvironmentTests {
    @Test func errorsCarryLMDBsCodeAndMessage() throws {
        #expect {
            _ = try Environment(path: "/nonexistent/iplog/\(UUID().uuidString)")
        } throws: { error in
            guard let error = error as? LMDBError else { return false }
            return error.code == ENOENT && error.message == String(cString: strerror(ENOENT))
        }
        #expect(LMDBError.keyExists.message.contains("MDB_KEYEXIST"))
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir)
            let db = try env.openDatabase(named: "t", flags: .create)
            try env.write { txn in try txn.put(db, key: [1], value: [1]) }
            #expect(throws: LMDBError.keyExists) {
                try env.write { txn in try txn.put(db, key: [1], value: [2], flags: .noOverwrite) }
            }
        }
    }

    @Test func filesAreReadableByTheOwnerOnly() throws {
        try withTemporaryDirectory { dir in
            _ = try Environment(path: dir)
            for file in ["data.mdb", "lock.mdb"] {
                let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + file)[.posixPermissions] as! NSNumber
                #expect(mode.intValue & 0o077 == 0, "\(file) has mode \(String(mode.intValue, radix: 8))")
            }
        }
    }

    @Test func aTinyMapGrowsThroughThousandsOfWrites() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir, mapSize: 64 << 10)
            let initial = env.info.mapSize
            let db = try env.openDatabase(named: "t", flags: .create)
            let value = [UInt8](repeating: 0xAB, count: 700)
            for i in 0..<5000 {
                var key = UInt32(i).bigEndian
                let k = withUnsafeBytes(of: &key) { Array($0) }
                try env.write { txn in try txn.put(db, key: k, value: value) }
            }
            #expect(env.info.mapSize > initial)
            let count = try env.read { txn in try txn.statistics(db).entries }
            #expect(count == 5000)
            // A single transaction larger than the map grows it too.
            try env.write { txn in
                for i in 5000..<9000 {
                    var key = UInt32(i).bigEndian
                    try txn.put(db, key: withUnsafeBytes(of: &key) { Array($0) }, value: value)
                }
            }
            #expect(try env.read { txn in try txn.statistics(db).entries } == 9000)
        }
    }

    @Test func aTransactionThatThrowsLeavesNothingBehind() throws {
        struct Boom: Error {}
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir)
            let db = try env.openDatabase(named: "t", flags: .create)
            try env.write { txn in try txn.put(db, key: [0], value: [0]) }
            #expect(throws: Boom.self) {
                try env.write { txn in
                    try txn.put(db, key: [1], value: [1])
                    try txn.delete(db, key: [0])
                    throw Boom()
                }
            }
            let (one, zero) = try env.read { txn in (try txn.get(db, key: [1]), try txn.get(db, key: [0])) }
            #expect(one == nil)
            #expect(zero == [0])
        }
    }

    @Test func scansForwardsAndBackwardsFromAnyKey() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir)
            let db = try env.openDatabase(named: "t", flags: .create)
            try env.write { txn in
                for k: UInt8 in [10, 20, 30, 40] { try txn.put(db, key: [k], value: [k &* 2]) }
            }
            func keys(from start: [UInt8]?, reverse: Bool) throws -> [UInt8] {
                try env.read { txn in
                    var out: [UInt8] = []
                    try txn.scan(db, from: start, reverse: reverse) { key, value in
                        #expect(value[0] == key[0] &* 2)
                        out.append(key[0])
                        return true
                    }
                    return out
                }
            }
            #expect(try keys(from: nil, reverse: false) == [10, 20, 30, 40])
            #expect(try keys(from: [20], reverse: false) == [20, 30, 40])
            #expect(try keys(from: [25], reverse: false) == [30, 40])
            #expect(try keys(from: [50], reverse: false) == [])
            #expect(try keys(from: nil, reverse: true) == [40, 30, 20, 10])
            #expect(try keys(from: [30], reverse: true) == [30, 20, 10])
            #expect(try keys(from: [25], reverse: true) == [20, 10])
            #expect(try keys(from: [99], reverse: true) == [40, 30, 20, 10])
            #expect(try keys(from: [5], reverse: true) == [])
        }
    }

    @Test func deletesAndEmpties() throws {
        try withTemporaryDirectory { dir in
            let env = try Environment(path: dir)
            let db = try env.openDatabase(named: "t", flags: .create)
            try env.write { txn in
                try txn.put(db, key: [1], value: [1])
                try txn.put(db, key: [2], value: [2])
                #expect(try txn.delete(db, key: [1]))
                #expect(try !txn.delete(db, key: [1]))
            }
            #expect(try env.read { try $0.statistics(db).entries } == 1)
            try env.write { txn in try txn.empty(db) }
            #expect(try env.read { try $0.statistics(db).entries } == 0)
        }
    }

    /// Readers on other threads while a writer commits keys 1…199 in order:
    /// each read sees one committed snapshot (exactly the keys 0..<n, so no
    /// half-applied or reordered commit), the counts a reader sees never go
    /// back, and every reader sees the writer's last commit before it stops.
    @Test func readersOnOtherThreadsSeeCommittedSnapshots() async throws {
        try await withTemporaryDirectoryAsync { dir in
            let env = try Environment(path: dir)
            let db = try env.openDatabase(named: "t", flags: .create)
            try env.write { txn in try txn.put(db, key: [0], value: [0]) }
            let final = 200
            let seenCounts = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var counts: [Int] = []
                        // Until the last commit is seen (bounded: a reader that never sees writes fails below).
                        for _ in 0..<200_000 where counts.last != final {
                            let n = try env.read { txn -> Int in
                                let n = try txn.statistics(db).entries
                                var keys: [UInt8] = []
                                try txn.scan(db) { key, _ in keys.append(key[0]); return true }
                                #expect(keys == (0..<n).map(UInt8.init), "a snapshot of \(n) entries holds \(keys.count)")
                                return n
                            }
                            if counts.last != n { counts.append(n) }
                            await Task.yield()
                        }
                        return counts
                    }
                }
                group.addTask {
                    for i in 1..<final { try env.write { txn in try txn.put(db, key: [UInt8(i)], value: [1]) } }
                    return []
                }
                var all: [[Int]] = []
                for try await counts in group where !counts.isEmpty { all.append(counts) }
                return all
            }
            #expect(seenCounts.count == 4)
            for counts in seenCounts {
                #expect(counts.last == final, "a reader never saw the last commit: \(counts.suffix(3))")
                #expect(counts == counts.sorted(), "a reader saw the count go back")
            }
        }
    }
}

func withTemporaryDirectoryAsync<R>(_ body: (String) async throws -> R) async throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lmdb-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}
