import Crypto
import Foundation
import JSON

/// The stored form of one event (record format 1; docs/STORAGE.md has the table).
///
/// ```
/// offset size
///  0     1   record format (1)
///  1     1   flags: bit 0 actor present; bit 1 sealed values follow the payload
///            (per-person encryption: the hash covers the sealed bytes, so erasing
///            a key leaves the chain intact); other bits 0
///  2     2   schema version of the payload, big-endian
///  4     4   occurredOn, days since 1970-01-01, big-endian two's complement
///  8     8   version in the stream, big-endian
/// 16     8   recordedAt, microseconds since the epoch (UTC), big-endian
/// 24    16   event id (UUID bytes)
/// 40     …   stream, type, [actor], payload: each a varint length and the bytes
///  …     …   [sealed: varint key slot, varint length, AES-GCM nonce ‖ ciphertext ‖ tag]
/// end-32 32  hash = SHA-256(previous hash ‖ position, 8 bytes big-endian ‖ every byte above)
/// ```
///
/// Fixed-width fields come first so a reader can pick the version, date or id
/// without parsing the rest.
enum RecordCodec {
    static let format: UInt8 = 1
    static let headerSize = 40
    static let hashSize = 32
    static let flagActor: UInt8 = 1
    static let flagSealed: UInt8 = 2

    /// The record's bytes (hash included) and its hash.
    static func encode(
        position: UInt64, version: UInt64, event: ProposedEvent, packedPayload: [UInt8],
        sealed: SealedValues? = nil, recordedAt: Timestamp, previousHash: [UInt8]
    ) -> (record: [UInt8], hash: [UInt8]) {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + event.stream.utf8.count + event.type.utf8.count
                            + (event.actor?.utf8.count ?? 0) + packedPayload.count + (sealed?.box.count ?? 0) + 64)
        out.append(format)
        out.append((event.actor == nil ? 0 : flagActor) | (sealed == nil ? 0 : flagSealed))
        appendBigEndian(event.schemaVersion, to: &out)
        appendBigEndian(UInt32(bitPattern: event.occurredOn.daysSinceEpoch), to: &out)
        appendBigEndian(version, to: &out)
        appendBigEndian(UInt64(bitPattern: recordedAt.microsecondsSinceEpoch), to: &out)
        event.eventID.withUnsafeBytes { out.append(contentsOf: $0) }
        appendField(event.stream.utf8, to: &out)
        appendField(event.type.utf8, to: &out)
        if let actor = event.actor { appendField(actor.utf8, to: &out) }
        Varint.append(UInt64(packedPayload.count), to: &out)
        out.append(contentsOf: packedPayload)
        if let sealed {
            Varint.append(UInt64(sealed.slot), to: &out)
            Varint.append(UInt64(sealed.box.count), to: &out)
            out.append(contentsOf: sealed.box)
        }
        let hash = chainHash(previous: previousHash, position: position, body: out)
        out.append(contentsOf: hash)
        return (out, hash)
    }

    /// SHA-256(previous ‖ position ‖ body).
    static func chainHash(previous: [UInt8], position: UInt64, body: some ContiguousBytes) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        var pos = position.bigEndian
        withUnsafeBytes(of: &pos) { hasher.update(bufferPointer: $0) }
        body.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    /// Decodes a stored record.
    /// - Parameter strings: strings already made by this read (the stream,
    ///   types, actors), reused instead of made again for every record.
    /// - Throws: ``DamagedRecord`` when the bytes are not a well-formed record.
    static func decode(position: UInt64, _ bytes: UnsafeRawBufferPointer, strings: inout StringTable) throws(DamagedRecord) -> RecordedEvent {
        var r = ByteReader(bytes)
        guard bytes.count >= headerSize + hashSize,
              r.readByte() == format,
              let flags = r.readByte(), flags & ~(flagActor | flagSealed) == 0,
              let schema = r.readBigEndian(UInt16.self),
              let day = r.readBigEndian(UInt32.self),
              let version = r.readBigEndian(UInt64.self),
              let recorded = r.readBigEndian(UInt64.self),
              let idBytes = r.readBytes(16),
              let stream = readString(&r, &strings),
              let type = readString(&r, &strings)
        else { throw DamagedRecord(position: position, reason: "the record's header does not decode") }
        let id = EventID(bigEndian: idBytes)
        var actor: String?
        if flags & flagActor != 0 {
            guard let a = readString(&r, &strings) else { throw DamagedRecord(position: position, reason: "the actor does not decode") }
            actor = a
        }
        guard let length = r.readVarint(), length <= UInt64(r.remaining - hashSize),
              let payload = r.readBytes(Int(length))
        else { throw DamagedRecord(position: position, reason: "the payload's length does not match the record") }
        var sealed: SealedValues?
        if flags & flagSealed != 0 {
            guard let slot = r.readVarint(), slot <= UInt64(UInt32.max), let n = r.readVarint(),
                  n <= UInt64(r.remaining - hashSize), let box = r.readBytes(Int(n))
            else { throw DamagedRecord(position: position, reason: "the sealed values do not decode") }
            sealed = SealedValues(slot: UInt32(slot), box: Array(box))
        }
        guard r.remaining == hashSize, let hash = r.readBytes(hashSize)
        else { throw DamagedRecord(position: position, reason: "the record's length does not match its fields") }
        return RecordedEvent(
            position: position, version: version, stream: stream, type: type, schemaVersion: schema,
            eventID: id, occurredOn: BusinessDate(daysSinceEpoch: Int32(bitPattern: day)),
            recordedAt: Timestamp(microsecondsSinceEpoch: Int64(bitPattern: recorded)),
            actor: actor, packedPayload: Array(payload), sealed: sealed, hash: Array(hash))
    }

    /// The stored hash (the last 32 bytes) of a record.
    static func storedHash(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard bytes.count >= headerSize + hashSize else { return nil }
        return Array(bytes[(bytes.count - hashSize)...])
    }

    /// The event id of a record (its bytes 24–39), without decoding the rest.
    static func storedEventID(_ bytes: UnsafeRawBufferPointer) -> EventID? {
        guard bytes.count >= headerSize else { return nil }
        return EventID(bigEndian: UnsafeRawBufferPointer(rebasing: bytes[24..<headerSize]))
    }

    /// Decodes a stored record, making every string anew.
    static func decode(position: UInt64, _ bytes: UnsafeRawBufferPointer) throws(DamagedRecord) -> RecordedEvent {
        var strings = StringTable()
        return try decode(position: position, bytes, strings: &strings)
    }

    private static func readString(_ r: inout ByteReader, _ strings: inout StringTable) -> String? {
        guard let n = r.readVarint(), let b = r.readBytes(Int(clamping: n)) else { return nil }
        return strings.string(b)
    }

    private static func appendField(_ utf8: String.UTF8View, to out: inout [UInt8]) {
        Varint.append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }
}

@inline(__always)
func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    var v = value.bigEndian
    withUnsafeBytes(of: &v) { out.append(contentsOf: $0) }
}

@inline(__always)
func bigEndianBytes(_ value: UInt64) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(8)
    appendBigEndian(value, to: &out)
    return out
}

/// A log position as the 8 big-endian bytes that key an event (and that the
/// indexes hold), without an array.
struct PositionKey: ContiguousBytes {
    var position: UInt64

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var bigEndian = position.bigEndian
        return try Swift.withUnsafeBytes(of: &bigEndian, body)
    }
}

/// The strings a read has made from stored UTF-8 (streams, types, actors), so
/// that a record whose bytes match one reuses it: the catalogue has a few dozen
/// types and a case a few actors, and each new string is a check of its bytes
/// and, past 15 bytes, an allocation. Holds at most 64; later ones are made anew.
struct StringTable {
    private var entries: [(bytes: [UInt8], string: String)] = []
    /// The stream being read: its records name it, so it is looked at first
    /// and takes no entry.
    var stream: (bytes: [UInt8], string: String)?

    /// The string of `bytes`, or nil when they are not valid UTF-8.
    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        if let stream, Self.equal(stream.bytes, bytes) { return stream.string }
        for entry in entries where Self.equal(entry.bytes, bytes) { return entry.string }
        guard let string = String(validUTF8: bytes) else { return nil }
        if entries.count < 64 { entries.append((Array(bytes), string)) }
        return string
    }

    private static func equal(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (b.isEmpty || a.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 })
    }
}

func readBigEndianUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
    guard bytes.count == 8 else { return nil }
    var r = ByteReader(bytes)
    return r.readBigEndian(UInt64.self)
}

/// A stored record that does not decode: the store is damaged at `position`.
public struct DamagedRecord: Error, Hashable, Sendable, CustomStringConvertible {
    public var position: UInt64
    public var reason: String
    public var description: String { "position \(position): \(reason)" }
}
