import Foundation
import JSON
import Synchronization
import Testing
@testable import EventLog

/// Personal values sealed under a per-person key (crypto-shredding), at the
/// log's level: what a policy asks to seal is stored encrypted, opens with the
/// key, and reads as erased once the key is destroyed, with the chain intact.
struct SealingTests {
    func secret(_ stream: String, _ text: String, id: EventID = .random(), slot: Int? = nil) -> ProposedEvent {
        var members: [JSONValue.Member] = [.init("secret", .string(text)), .init("open", .string("synlig"))]
        if let slot { members.append(.init("slot", .integer(slot))) }
        return ProposedEvent(stream: stream, type: "Noted", eventID: id, occurredOn: day, payload: .object(members))
    }

    /// Every file under `directory`, read whole.
    func files(_ directory: String) throws -> [(String, Data)] {
        let paths = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        return try paths.compactMap { p in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + p, isDirectory: &isDir)
            return isDir.boolValue ? nil : (p, try Data(contentsOf: URL(fileURLWithPath: directory + "/" + p)))
        }
    }

    func appears(_ needle: [UInt8], in directory: String) throws -> [String] {
        try files(directory).filter { $0.1.range(of: Data(needle)) != nil }.map(\.0)
    }

    @Test func sealedValuesAreStoredEncryptedAndOpenWithTheKey() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()
            try store.append(secret("case-1", "Ingrid Solbakken"), policy: &policy)
            let e = try store.read(stream: "case-1")[0]
            #expect(e.sealed?.slot == 0)
            #expect(try e.payload()["secret"] == .string("") && e.payload()["open"] == .string("synlig"))
            #expect(try e.payload(keys: store.personKeys)["secret"] == .string("Ingrid Solbakken"))
            #expect(try appears(Array("Ingrid Solbakken".utf8), in: dir).isEmpty)
            #expect(try !appears(Array("synlig".utf8), in: dir).isEmpty)
        }
    }

    @Test func erasingTheKeyLeavesTheEventsAndTheChainAndTheKeyIsGoneFromDisk() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()
            let first = EventID.random()
            try store.append([secret("case-1", "Ingrid Solbakken", id: first), secret("case-2", "Ola Hansen")], policy: &policy)
            try store.append(secret("case-1", "Ingrid igjen", slot: 0), policy: &policy)
            guard case .key(let key) = try store.personKeys.slot(0) else { Issue.record("no key in slot 0"); return }
            let keyBytes = key.withUnsafeBytes { Array($0) }
            let head = try store.head()

            try store.erasingKey { _ in ((), erase: 0, changes: []) }

            #expect(try store.head() == head)
            #expect(try store.erasedSlots() == [0])
            let report = try store.verify()
            #expect(report.ok && report.sealedEvents == 3 && report.erasedEvents == 2, "\(report.problems)")
            let case1 = try store.read(stream: "case-1")
            #expect(try case1.map { try $0.payload(keys: store.personKeys)["secret"] } == [.string("[erased]"), .string("[erased]")])
            #expect(try case1.allSatisfy { try $0.isErased(keys: store.personKeys) })
            // The other person's values still open.
            #expect(try store.read(stream: "case-2")[0].payload(keys: store.personKeys)["secret"] == .string("Ola Hansen"))
            #expect(try appears(keyBytes, in: dir).isEmpty)
            // The same event again is answered with its position, not stored again.
            let again = try store.append(secret("case-1", "Ingrid Solbakken", id: first), policy: &policy)
            #expect(!again.written && again.position == 1)
            // A key destroyed behind the log's back (no erasure recorded) is found.
            try store.personKeys.erase(1)
            #expect(try store.verify().problems.map(\.kind) == ["erasedWithoutRecord"])
        }
    }

    @Test func aPayloadPackedAheadIsStoredAsOnePackedInTheTransaction() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()  // seals `secret`
            var ahead = secret("case-1", "Ingrid Solbakken", slot: 0)
            ahead.prepack(sealing: .members(["secret": .all]))
            var otherFields = secret("case-1", "Ola Nordmann", slot: 0)
            otherFields.prepack(sealing: .members(["open": .all]))  // not what the policy seals: packed again
            var whole = secret("case-1", "Kari Berg", slot: 0)
            whole.prepack(sealing: nil)
            var changed = secret("case-1", "Per Dahl", slot: 0)
            changed.prepack(sealing: .members(["secret": .all]))
            changed.payload = secret("case-1", "Liv Holm", slot: 0).payload  // what was packed is forgotten
            #expect(changed.packed == nil && ahead.packed != nil)
            try store.append([secret("case-1", "Nils Lie"), ahead, otherFields, whole, changed], policy: &policy)
            var unsealedOnly = ProposedEvent(stream: "case-2", type: "Noted", occurredOn: day, payload: .object([.init("open", .string("synlig"))]))
            unsealedOnly.prepack(sealing: .members(["secret": .all]))
            try store.append(unsealedOnly, policy: &policy)

            let stored = try store.read(stream: "case-1")
            for (e, name) in zip(stored, ["Nils Lie", "Ingrid Solbakken", "Ola Nordmann", "Kari Berg", "Liv Holm"]) {
                #expect(try e.payload()["secret"] == .string("") && e.payload()["open"] == .string("synlig"))
                #expect(try e.payload(keys: store.personKeys)["secret"] == .string(name))
            }
            // Packed ahead or not, the same bytes are stored.
            #expect(stored.count == 5 && Set(stored.dropFirst().map(\.packedPayload)).count == 1)
            let plain = try store.read(stream: "case-2")[0]
            #expect(plain.sealed == nil && plain.packedPayload == PackedJSON.encode(unsealedOnly.payload))
            for name in ["Ingrid Solbakken", "Ola Nordmann", "Kari Berg", "Liv Holm"] {
                #expect(try appears(Array(name.utf8), in: dir).isEmpty)
            }
        }
    }

    @Test func randomBytesForKeysAndNoncesAreNeverHandedOutTwice() throws {
        // Across several refills of the 4 KB pool, and from several threads.
        let nonces = (0..<2_000).map { _ in SecureRandom.nonce().withUnsafeBytes { Array($0) } }
        #expect(nonces.allSatisfy { $0.count == 12 })
        #expect(Set(nonces).count == nonces.count)
        let keys = (0..<600).map { _ in SecureRandom.bytes(32)! }  // what a new person key is made of
        #expect(keys.allSatisfy { $0.count == 32 } && Set(keys).count == keys.count)
        let threads = 4, each = 500
        let drawn = Mutex<[[UInt8]]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let mine = (0..<each).map { _ in SecureRandom.bytes(16)! }
            drawn.withLock { $0 += mine }
        }
        #expect(Set(drawn.withLock { $0 }).count == threads * each)
        // The bytes look random: each bit of 2,000 nonces is set about half the time.
        let ones = nonces.reduce(0) { $0 + $1.reduce(0) { $0 + $1.nonzeroBitCount } }
        #expect(abs(Double(ones) / Double(nonces.count * 96) - 0.5) < 0.02)
        #expect(SecureRandom.bytes(4_097) == nil)
    }

    @Test func keysAreWrittenAheadSoANewPersonUsuallyCostsNoWrite() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()
            let path = dir + "/keys/person.keys"
            func size() throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0 }
            try store.append(secret("case-1", "Ingrid Solbakken"), policy: &policy)
            #expect(try size() == 64 + 32 * Int(PersonKeys.keysAhead))
            try store.append(secret("case-2", "Ola Hansen"), policy: &policy)
            #expect(try size() == 64 + 32 * Int(PersonKeys.keysAhead))
            let slots = try store.read(from: 1).compactMap { $0.sealed?.slot }
            #expect(slots == [0, 1])
            #expect(try store.read(from: 2)[0].payload(keys: store.personKeys)["secret"] == .string("Ola Hansen"))
        }
    }

    @Test func anIdAgainWithOtherSealedContentIsRefused() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()
            let id = EventID.random()
            try store.append(secret("case-1", "Ingrid Solbakken", id: id), policy: &policy)
            #expect(try !store.append(secret("case-1", "Ingrid Solbakken", id: id), policy: &policy).written)
            #expect(throws: AppendFailure.self) { try store.append(secret("case-1", "Kari Nordmann", id: id), policy: &policy) }
            #expect(try store.head().position == 1)
        }
    }

    @Test func aMissingKeyIsReportedByVerifyAndBackupsCarryTheKeys() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir + "/a")
            var policy = CountingPolicy()
            try store.append(secret("case-1", "Ingrid Solbakken"), policy: &policy)
            try store.backup(to: dir + "/b")
            let copy = try EventStore(directory: dir + "/b", create: false)
            #expect(try copy.read(stream: "case-1")[0].payload(keys: copy.personKeys)["secret"] == .string("Ingrid Solbakken"))
            #expect(try copy.verify().ok)
            truncate(dir + "/a/keys/person.keys", 64)
            let report = try store.verify()
            #expect(report.problems.map(\.kind) == ["missingKey"])
            #expect(throws: LogError.self) { try store.read(stream: "case-1")[0].payload(keys: store.personKeys) }
        }
    }
}

struct ControlCharacterTests {
    /// The byte-level check agrees with Unicode's category Cc for every scalar
    /// up to U+0800 and a sample beyond.
    @Test func agreesWithTheUnicodeCategory() {
        let scalars = (0..<0x800).compactMap(Unicode.Scalar.init) + ["\u{2028}", "\u{FEFF}", "\u{1F600}", "ø", "\u{85}"]
        for scalar in scalars {
            let text = "a" + String(Character(scalar)) + "b"
            #expect(EventStore.containsControlCharacter(text) == (scalar.properties.generalCategory == .control), "U+\(String(scalar.value, radix: 16))")
        }
    }
}
