import CPrefetch
import JSON

/// A record of the log where the memory map holds it, lent for the length of
/// a read transaction: its position and its bytes, not yet read.
public struct LentRecord: @unchecked Sendable {
    public let position: UInt64
    public let bytes: UnsafeRawBufferPointer

    /// Asks for the record's bytes (up to ``prefetchLimit``) before they are
    /// read: the records a read takes in turn lie scattered over the log,
    /// each a few cache lines nothing has touched yet.
    @inlinable
    public func prefetch() {
        iplog_prefetch_bytes(bytes.baseAddress, UInt(bytes.count), Self.prefetchLimit)
    }

    /// How many bytes of a record ``prefetch()`` asks for (a record is usually a few hundred).
    public static let prefetchLimit: UInt = 2048
}

/// One event as the log stores it, lent while a read visits it: the record's
/// fixed fields read out, its stream, type and packed payload left where they
/// lie in the log's memory map. Making one copies nothing and allocates nothing.
///
/// Its buffers are valid only inside the visit that lends it (the read
/// transaction ends after); ``recorded()`` makes the owned ``RecordedEvent``.
/// Sendable within the visit: the bytes it points at do not change while the
/// transaction is open, so other threads may read them until the visit returns.
public struct StoredEvent: @unchecked Sendable {
    /// Global position in the log.
    public let position: UInt64
    /// Version within the stream.
    public let version: UInt64
    public let schemaVersion: UInt16
    public let occurredOn: BusinessDate
    /// The stream's UTF-8 bytes (``stream`` makes the string).
    public let streamBytes: UnsafeRawBufferPointer
    /// The type's UTF-8 bytes.
    public let typeBytes: UnsafeRawBufferPointer
    /// The payload in its packed form (``PackedJSON``); personal values sealed
    /// out as empty strings when ``sealedSlot`` is set.
    public let packedPayload: UnsafeRawBufferPointer
    /// The person's key slot of the sealed values, when there are any.
    public let sealedSlot: UInt32?
    /// The whole record, for ``recorded()``.
    private let record: UnsafeRawBufferPointer

    /// The event of a record lent by ``EventStore/scanRecords(from:through:batchSize:_:)``.
    /// - Throws: ``DamagedRecord`` when the bytes are not a well-formed record.
    public init(_ lent: LentRecord) throws(DamagedRecord) {
        try self.init(position: lent.position, record: lent.bytes)
    }

    /// Reads the record's header and the places of its fields; checks its
    /// lengths, not its hash (``EventStore/verify()`` does that).
    /// - Throws: ``DamagedRecord`` when the bytes are not a well-formed record.
    init(position: UInt64, record: UnsafeRawBufferPointer) throws(DamagedRecord) {
        var r = ByteReader(record)
        guard record.count >= RecordCodec.headerSize + RecordCodec.hashSize,
              r.readByte() == RecordCodec.format,
              let flags = r.readByte(), flags & ~(RecordCodec.flagActor | RecordCodec.flagSealed) == 0,
              let schema = r.readBigEndian(UInt16.self),
              let day = r.readBigEndian(UInt32.self),
              let version = r.readBigEndian(UInt64.self),
              r.readBytes(8 + 16) != nil,  // recordedAt, event id
              let stream = Self.field(&r), let type = Self.field(&r),
              flags & RecordCodec.flagActor == 0 || Self.field(&r) != nil,
              let length = r.readVarint(), length <= UInt64(r.remaining - RecordCodec.hashSize),
              let payload = r.readBytes(Int(length))
        else { throw DamagedRecord(position: position, reason: "the record's header does not decode") }
        var slot: UInt32?
        if flags & RecordCodec.flagSealed != 0 {
            guard let s = r.readVarint(), s <= UInt64(UInt32.max) else {
                throw DamagedRecord(position: position, reason: "the sealed values do not decode")
            }
            slot = UInt32(s)
        }
        self.position = position
        self.version = version
        self.schemaVersion = schema
        self.occurredOn = BusinessDate(daysSinceEpoch: Int32(bitPattern: day))
        self.streamBytes = stream
        self.typeBytes = type
        self.packedPayload = payload
        self.sealedSlot = slot
        self.record = record
    }

    private static func field(_ r: inout ByteReader) -> UnsafeRawBufferPointer? {
        guard let n = r.readVarint(), n <= UInt64(r.remaining) else { return nil }
        return r.readBytes(Int(n))
    }

    /// The stream's name (a string of up to 15 bytes, as `case-000123`, needs no allocation).
    public var stream: String { String(decoding: streamBytes, as: UTF8.self) }

    /// Whether the stream's name starts with `prefix` (ASCII), without making it.
    @inlinable
    public func streamHasPrefix(_ prefix: StaticString) -> Bool {
        Self.starts(streamBytes, with: prefix, exactly: false)
    }

    /// Whether the type is `name`, without making a string of it.
    @inlinable
    public func isType(_ name: StaticString) -> Bool {
        Self.starts(typeBytes, with: name, exactly: true)
    }

    /// Compared byte by byte in place (a call of `memcmp` costs more than the
    /// dozen bytes it would compare).
    @inlinable
    static func starts(_ bytes: UnsafeRawBufferPointer, with prefix: StaticString, exactly: Bool) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard exactly ? bytes.count == n : bytes.count >= n else { return false }
        let p = prefix.utf8Start
        for i in 0..<n where bytes[i] != p[i] { return false }
        return true
    }

    /// The event as an owned value: every field, the payload's bytes copied.
    /// - Throws: ``DamagedRecord`` when the record does not decode whole.
    public func recorded() throws(DamagedRecord) -> RecordedEvent {
        try RecordCodec.decode(position: position, record)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
