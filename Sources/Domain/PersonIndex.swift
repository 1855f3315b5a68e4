import BinaryCodable
import Crypto
import EventLog
import Foundation
import JSON

/// Which values of an event are sealed under whose key (the policy's choice,
/// made with the person index).
extension DomainPolicy {
    /// What of `event` to seal, and under which key: the case's key once it has
    /// one; at the person's application, the person's key (made when they have
    /// none); in a case imported without its application (`--lenient`), a key
    /// of its own. Nil when the event has no personal value.
    mutating func sealing(_ event: ProposedEvent, _ decoded: DomainEvent, state: CaseState, log: LogView) throws -> Sealing? {
        guard let fields = DomainEvent.sealedFields(of: event.type), PackedJSON.hasSealedValues(event.payload, fields) else { return nil }
        let application: ApplicationReceived? = if case .applicationReceived(let e) = decoded { e } else { nil }
        if let slot = state.personKey {
            guard let key = try log.personKey(slot) else {
                // Values that say only `[erased]` (an export taken after the erasure, imported
                // again) carry nothing personal: they are sealed under a key no one keeps.
                if PackedJSON.encode(event.payload, sealing: fields).sealed.allSatisfy({ $0 == PackedJSON.erasedMarker }) {
                    return Sealing(fields: fields, slot: slot, key: SymmetricKey(size: .bits256))
                }
                throw Refusal(.personErased, "the personal data of \(event.stream) has been erased; it takes no more personal values")
            }
            if let application, try index.personSlot(application.personId, log: log) == nil {
                try index.link(application.personId, to: slot, stream: event.stream, log: log)
            }
            return Sealing(fields: fields, slot: slot, key: key)
        }
        if let application, application.personId == PackedJSON.erasedMarker {
            // The person was erased before this case was exported: a key of its own, destroyed
            // when the batch commits, and no entry in the person index.
            let (slot, key) = try log.newErasedKey()
            return Sealing(fields: fields, slot: slot, key: key)
        }
        if let application {
            if let slot = try index.personSlot(application.personId, log: log), let key = try log.personKey(slot) {
                try index.addCase(event.stream, slot: slot, log: log)
                return Sealing(fields: fields, slot: slot, key: key)
            }
            let (slot, key) = try log.newPersonKey()
            try index.link(application.personId, to: slot, stream: event.stream, log: log)
            return Sealing(fields: fields, slot: slot, key: key)
        }
        let (slot, key) = try log.newPersonKey()
        return Sealing(fields: fields, slot: slot, key: key)
    }

    /// The store's secret for pseudonyms of persons (nil until the first
    /// application): the key of the person index's HMAC.
    public static func pseudonymSecret(in store: EventStore) throws -> [UInt8]? {
        try store.withLogView { log in try log.state(PersonIndex.secretKey) }
    }

    /// The store's pseudonym of `person`: the hex HMAC-SHA256 under `secret`
    /// that keys them in the person index. It tells nothing without the secret,
    /// which never leaves the store.
    public static func pseudonym(_ person: String, secret: [UInt8]) -> String {
        String(PersonIndex.entry(person, secret: secret).dropFirst("person/".count))
    }

    /// The person's case other than `stream` that is open, if any.
    mutating func openCase(person: String, other stream: String, log: LogView) throws -> String? {
        guard let slot = try index.personSlot(person, log: log) else { return nil }
        return try openCase(slot: slot, other: stream, log: log)
    }

    /// A case of the person with key `slot`, other than `stream`, that is open
    /// as the log stands (the index lists candidates; their state decides).
    mutating func openCase(slot: UInt32, other stream: String? = nil, log: LogView) throws -> String? {
        for candidate in try index.openCases(slot: slot, log: log) where candidate != stream {
            if case .caseState(let s) = try cache.load(candidate, at: try log.version(of: candidate), log: log), s.isOpen {
                return candidate
            }
        }
        return nil
    }

}

/// The person index, in the log's `policyState`: under a keyed hash of the
/// person id (`person/<HMAC>`, so the id is not stored in the clear) the slot
/// of the person's key (``PersonKeys``); `open/<slot>` the person's open cases
/// (rule 2), `cases/<slot>` all of them (what an erasure names);
/// `secret/personIndex` the store's random key for the hash.
///
/// Changes wait in memory until the batch's commit writes them
/// (``writes()``); a batch that does not commit drops them.
struct PersonIndex {
    static let secretKey = Array("secret/personIndex".utf8)

    /// Entries worked out in this batch (an application needs its person's up
    /// to three times; the HMAC is most of an append's checks).
    private var entries: [String: String] = [:]
    /// Values changed in this batch (nil: deleted).
    private var pending: [String: [UInt8]?] = [:]
    var secret: [UInt8]?
    private var newSecret = false

    mutating func indexValue(_ key: String, log: LogView) throws -> [UInt8]? {
        if let pending = pending[key] { return pending }
        return try log.state(Array(key.utf8))
    }

    func streams(_ value: [UInt8]?) -> [String] {
        value.map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
    }

    mutating func setStreams(_ key: String, _ streams: [String]) {
        pending[key] = .some(streams.isEmpty ? nil : Array(streams.joined(separator: "\n").utf8))
    }

    /// The slot of the person's key, nil when they have none.
    mutating func personSlot(_ person: String, log: LogView) throws -> UInt32? {
        guard let bytes = try indexValue(try entry(person, log: log), log: log) else { return nil }
        guard bytes.count == 4 else { throw LogError(.damaged, "a person index entry is damaged") }
        return bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func link(_ person: String, to slot: UInt32, stream: String, log: LogView) throws {
        pending[try entry(person, log: log)] = .some(withUnsafeBytes(of: slot.bigEndian) { Array($0) })
        try addCase(stream, slot: slot, log: log)
    }

    mutating func addCase(_ stream: String, slot: UInt32, log: LogView) throws {
        var all = streams(try indexValue("cases/\(slot)", log: log))
        if !all.contains(stream) { all.append(stream) }
        setStreams("cases/\(slot)", all)
    }

    /// The person index entry of `person` (`person/<HMAC>`), making the store's secret on first use.
    mutating func entry(_ person: String, log: LogView) throws -> String {
        if secret == nil {
            if let stored = try log.state(Self.secretKey) {
                secret = stored
            } else {
                var bytes = [UInt8](repeating: 0, count: 32)
                var rng = SystemRandomNumberGenerator()
                for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                secret = bytes
                newSecret = true
            }
        }
        if let entry = entries[person] { return entry }
        let entry = Self.entry(person, secret: secret!)
        entries[person] = entry
        return entry
    }

    /// The person's open cases as the index lists them (candidates: their state decides).
    mutating func openCases(slot: UInt32, log: LogView) throws -> [String] {
        streams(try indexValue("open/\(slot)", log: log))
    }

    mutating func setOpen(_ open: Bool, slot: UInt32, stream: String, log: LogView) throws {
        var all = streams(try indexValue("open/\(slot)", log: log)).filter { $0 != stream }
        if open { all.append(stream) }
        setStreams("open/\(slot)", all)
    }

    static func entry(_ person: String, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(person.utf8), using: SymmetricKey(data: secret))
        return "person/" + Array(mac).hexString
    }


    // MARK: Batches

    /// A batch begins: what a batch that did not commit changed is dropped.
    mutating func beginBatch() {
        entries.removeAll(keepingCapacity: true)
        pending = [:]
        if newSecret { secret = nil }
        newSecret = false
    }

    /// What the batch's commit writes: a new secret, and the changed entries.
    func writes() -> [(key: [UInt8], value: [UInt8]?)] {
        var writes: [(key: [UInt8], value: [UInt8]?)] = []
        if newSecret, let secret { writes.append((Self.secretKey, secret)) }
        for (key, value) in pending { writes.append((Array(key.utf8), value)) }
        return writes
    }

    /// The batch committed.
    mutating func didCommit() {
        entries.removeAll(keepingCapacity: true)
        pending = [:]
        newSecret = false
    }
}
