import BinaryCodable
import Crypto
import EventLog
import Foundation
import JSON

/// Erasure (crypto-shredding) of a person: the log's records of it and the
/// person index entries it drops.
extension DomainPolicy {
    /// What an erasure destroyed.
    public struct Erasure: Sendable, Hashable {
        /// The slot of the destroyed key.
        public var slot: UInt32
        /// The person's cases, whose personal values are now unreadable.
        public var cases: [String]
    }

    /// An erasure whose record in the access log is still to be written: kept
    /// in `policyState` (`erasing/<slot>`) from the erasure's own transaction
    /// until the access log has it, so an erasure cut short between the two is
    /// finished, record and all, by the next `iplog erase`.
    public struct PendingErasure: Sendable, Hashable, Codable {
        public var slot: UInt32
        /// When it was done, µs since the epoch: also the access-log entry's time.
        public var at: Int64
        public var actor: String
        public var reason: String
        public var cases: [String]
        /// The person's key in the access log's index (an HMAC under the access
        /// log's own secret, never the id): what to drop from it.
        public var accessKey: [UInt8]
    }

    static let pendingErasurePrefix = Array("erasing/".utf8)

    /// Erases a person (crypto-shredding): destroys their key, so every
    /// personal value sealed under it is unreadable for good, and removes them
    /// from the person index. The events stay, and so does the chain.
    ///
    /// In one write transaction of the log (no append hands the key out
    /// meanwhile) the person is taken out of the index, the log records the
    /// erasure, and a ``PendingErasure`` is kept for the access log; the key is
    /// destroyed right after that commits (``EventStore/erasingKey(_:)``). The
    /// caller writes the access log and then calls ``finishErasure(slot:in:)``.
    /// Refused while the person has an open case.
    ///
    /// - Returns: nil when the store has no key for the person (never had a
    ///   case, or erased already).
    public static func erase(person: String, in store: EventStore, actor: String, reason: String, accessKey: [UInt8]) throws -> PendingErasure? {
        var policy = DomainPolicy(today: BusinessDate.today())
        return try store.erasingKey { log -> (PendingErasure?, erase: UInt32?, changes: [(key: [UInt8], value: [UInt8]?)]) in
            guard let secret = try log.state(PersonIndex.secretKey) else { return (nil, nil, []) }
            policy.index.secret = secret
            guard let slot = try policy.index.personSlot(person, log: log) else { return (nil, nil, []) }
            if let open = try policy.openCase(slot: slot, log: log) {
                throw Refusal(.personHasOpenCase, "the person has an open case (\(open)); close it before erasing")
            }
            let cases = policy.index.streams(try log.state(Array("cases/\(slot)".utf8)))
            let personEntry = PersonIndex.entry(person, secret: secret)
            let pending = PendingErasure(slot: slot, at: EventStore.systemClock().microsecondsSinceEpoch, actor: actor,
                                         reason: reason, cases: cases, accessKey: accessKey)
            let record = try JSONEncoder().encode(pending)
            return (pending, slot,
                    [(Array(personEntry.utf8), nil), (Array("open/\(slot)".utf8), nil), (Array("cases/\(slot)".utf8), nil),
                     (pendingErasurePrefix + Array("\(slot)".utf8), Array(record))])
        }
    }

    /// Erasures whose access-log record is still to be written, oldest first.
    public static func pendingErasures(in store: EventStore) throws -> [PendingErasure] {
        try store.withLogView { log in
            try log.states(prefix: pendingErasurePrefix).map { entry in
                do {
                    return try JSONDecoder().decode(PendingErasure.self, from: Data(entry.value))
                } catch {
                    throw LogError(.damaged, "a pending erasure record is damaged")
                }
            }
        }.sorted { $0.at < $1.at }
    }

    /// Forgets a pending erasure once the access log has its record.
    public static func finishErasure(slot: UInt32, in store: EventStore) throws {
        try store.updatePolicyState { _ in ((), [(pendingErasurePrefix + Array("\(slot)".utf8), nil)]) }
    }
}
