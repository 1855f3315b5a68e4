import Foundation
import JSON

/// An event's id: a UUID, 16 bytes. An id is written to the log once.
public struct EventID: Hashable, Sendable, CustomStringConvertible, ContiguousBytes {
    public var bytes: (UInt64, UInt64)

    public init(_ uuid: UUID) {
        let u = uuid.uuid
        self.init(bytes: [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15])!
    }

    /// From exactly 16 bytes.
    public init?(bytes b: some Collection<UInt8>) {
        guard b.count == 16 else { return nil }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for (i, x) in b.enumerated() {
            if i < 8 { hi = hi << 8 | UInt64(x) } else { lo = lo << 8 | UInt64(x) }
        }
        bytes = (hi, lo)
    }

    /// From 16 stored bytes (the caller has checked the count).
    init(bigEndian b: UnsafeRawBufferPointer) {
        bytes = (UInt64(bigEndian: b.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// Parses the canonical 8-4-4-4-12 hex form (either case).
    public init?(string: String) {
        var hi: UInt64 = 0, lo: UInt64 = 0
        var digits = 0
        var count = 0
        for c in string.utf8 {
            count += 1
            if count == 9 || count == 14 || count == 19 || count == 24 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            let nibble: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            if digits < 16 { hi = hi << 4 | UInt64(nibble) } else { lo = lo << 4 | UInt64(nibble) }
            digits += 1
        }
        guard count == 36, digits == 32 else { return nil }
        self.init(hi: hi, lo: lo)
    }

    /// A new random (version 4, RFC 9562) id from the system's generator.
    public static func random() -> EventID {
        var generator = SystemRandomNumberGenerator()
        let hi = generator.next() as UInt64, lo = generator.next() as UInt64
        return EventID(hi: (hi & ~0xF000) | 0x4000, lo: (lo & ~(0xC000 << 48)) | (0x8000 << 48))
    }

    private init(hi: UInt64, lo: UInt64) { bytes = (hi, lo) }

    /// The 16 bytes, big-endian.
    public var byteArray: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Lends the 16 bytes, big-endian, without making an array (index keys).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var bigEndian = (bytes.0.bigEndian, bytes.1.bigEndian)
        return try Swift.withUnsafeBytes(of: &bigEndian, body)
    }

    /// Lowercase 8-4-4-4-12.
    public var description: String {
        let hex = Array(byteArray.hexString)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }

    public static func == (a: EventID, b: EventID) -> Bool { a.bytes == b.bytes }
    public func hash(into h: inout Hasher) {
        h.combine(bytes.0)
        h.combine(bytes.1)
    }
}

/// What an append may state about the stream's version before it.
public enum ExpectedVersion: Hashable, Sendable, CustomStringConvertible {
    /// No check.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream must be at exactly this version (its last event's version).
    case exactly(UInt64)

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "noStream"
        case .exactly(let v): String(v)
        }
    }
}

/// An event on its way into the log: envelope and payload, before the log assigns
/// position, version, `recordedAt` and hash.
public struct ProposedEvent: Sendable, Hashable {
    public var stream: String
    public var type: String { didSet { checked = nil; packed = nil } }
    /// The payload's schema version for this type (see docs/STORAGE.md, upcasting).
    public var schemaVersion: UInt16 { didSet { checked = nil; packed = nil } }
    public var eventID: EventID
    public var occurredOn: BusinessDate
    public var actor: String?
    /// The payload, a JSON object.
    public var payload: JSONValue { didSet { checked = nil; packed = nil } }
    public var expectedVersion: ExpectedVersion
    /// What checking the payload against a catalogue made of it (the domain's
    /// typed event), so that the policy need not decode it again. Forgotten
    /// whenever the type, schema version or payload changes; not part of the
    /// event's identity.
    public var checked: (any Sendable)?
    /// The payload packed ahead (``prepack(sealing:)``), so that the log need not
    /// pack it inside its write transaction. Forgotten like ``checked``; not part
    /// of the event's identity.
    public private(set) var packed: PackedPayload?

    /// A payload in its stored form: packed with the strings `fields` names
    /// taken out to be sealed (``PackedJSON/encode(_:sealing:)``), or whole
    /// when `fields` is nil.
    public struct PackedPayload: Sendable {
        public var fields: SealedFields?
        public var clear: [UInt8]
        public var sealed: [String]
    }

    /// Packs the payload now, for the fields a policy will ask to seal (an
    /// import does this on its parsing thread). The log uses it when the
    /// policy's ``Sealing`` names the same fields, and packs again otherwise.
    public mutating func prepack(sealing fields: SealedFields?) {
        if let fields {
            let (clear, sealed) = PackedJSON.encode(payload, sealing: fields)
            packed = PackedPayload(fields: fields, clear: clear, sealed: sealed)
        } else {
            packed = PackedPayload(fields: nil, clear: PackedJSON.encode(payload), sealed: [])
        }
    }

    /// The payload packed with the strings `fields` names taken out.
    func packedPayload(sealing fields: SealedFields) -> (packed: [UInt8], sealed: [String]) {
        if let packed, packed.fields == fields { return (packed.clear, packed.sealed) }
        return PackedJSON.encode(payload, sealing: fields)
    }

    /// The payload packed whole.
    func packedPayload() -> [UInt8] {
        // Packing for sealing takes out only the strings it seals (and empty
        // ones): with none taken out, the bytes are the whole payload's.
        if let packed, packed.sealed.isEmpty { return packed.clear }
        return PackedJSON.encode(payload)
    }

    public init(
        stream: String, type: String, schemaVersion: UInt16 = 1, eventID: EventID = .random(),
        occurredOn: BusinessDate, actor: String? = nil, payload: JSONValue,
        expectedVersion: ExpectedVersion = .any
    ) {
        self.stream = stream
        self.type = type
        self.schemaVersion = schemaVersion
        self.eventID = eventID
        self.occurredOn = occurredOn
        self.actor = actor
        self.payload = payload
        self.expectedVersion = expectedVersion
    }

    public static func == (a: ProposedEvent, b: ProposedEvent) -> Bool {
        a.stream == b.stream && a.type == b.type && a.schemaVersion == b.schemaVersion && a.eventID == b.eventID
            && a.occurredOn == b.occurredOn && a.actor == b.actor && a.payload == b.payload
            && a.expectedVersion == b.expectedVersion
    }

    public func hash(into h: inout Hasher) {
        h.combine(stream)
        h.combine(type)
        h.combine(eventID)
        h.combine(payload)
    }
}

/// An event as the log holds it.
public struct RecordedEvent: Sendable, Hashable {
    /// Global position: from 1, no gaps, in commit order.
    public var position: UInt64
    /// Version within the stream: from 1, no gaps.
    public var version: UInt64
    public var stream: String
    public var type: String
    public var schemaVersion: UInt16
    public var eventID: EventID
    public var occurredOn: BusinessDate
    public var recordedAt: Timestamp
    public var actor: String?
    /// The payload in its packed form (``PackedJSON``); ``payload()`` decodes it.
    /// When ``sealed`` is set, its personal values are empty strings here.
    public var packedPayload: [UInt8]
    /// The personal values, encrypted under the person's key, when there are any.
    public var sealed: SealedValues?
    /// SHA-256 of the chain up to and including this event.
    public var hash: [UInt8]

    /// The payload as JSON, personal values left sealed (empty strings): what
    /// the read models fold, which need no personal data.
    /// - Throws: ``PackedJSONError`` when the stored bytes are damaged.
    public func payload() throws -> JSONValue { try PackedJSON.decode(packedPayload) }

    /// The payload with its personal values opened with `keys`, or each read as
    /// ``PackedJSON/erasedMarker`` when the person's key has been erased.
    /// - Throws: ``LogError`` `.damaged` when the key is missing or does not open
    ///   the values; ``PackedJSONError`` when the bytes are damaged.
    public func payload(keys: PersonKeys) throws -> JSONValue {
        guard let sealed else { return try payload() }
        return try PackedJSON.decode(packedPayload, unsealing: try keys.unseal(sealed, eventID: eventID, position: position))
    }

    /// Whether the person's key of this event has been erased.
    public func isErased(keys: PersonKeys) throws -> Bool {
        guard let sealed else { return false }
        if case .erased = try keys.slot(sealed.slot) { return true }
        return false
    }

    /// Lowercase hex of ``hash``.
    public var hashHex: String { hash.hexString }
}

extension Array where Element == UInt8 {
    /// Lowercase hex.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
