/// The compact binary form of a ``JSONValue`` that the log stores (docs/STORAGE.md).
///
/// One tag byte a value, then:
///
/// | tag | value | followed by |
/// |---|---|---|
/// | 0 | null | nothing |
/// | 1 | false | nothing |
/// | 2 | true | nothing |
/// | 3 | number | varint length, the literal's ASCII |
/// | 4 | string | varint length, UTF-8 |
/// | 5 | array | varint count, the items |
/// | 6 | object | varint count, then per member: varint key length, key UTF-8, value |
///
/// Object members are written sorted by their keys' UTF-8 bytes, so one JSON
/// value has exactly one packed form (what `duplicateEventId` compares), and a
/// reader may binary-search a key. Varints are unsigned LEB128.
public enum PackedJSON {
    enum Tag: UInt8 {
        case null = 0, `false`, `true`, number, string, array, object
    }

    /// The packed bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        encode(value, into: &out)
        return out
    }

    /// Appends the packed bytes of `value` to `out`.
    public static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null.rawValue)
        case .bool(let b): out.append(b ? Tag.true.rawValue : Tag.false.rawValue)
        case .number(let n):
            out.append(Tag.number.rawValue)
            appendBytes(n.utf8, to: &out)
        case .string(let s):
            out.append(Tag.string.rawValue)
            appendBytes(s.utf8, to: &out)
        case .array(let items):
            out.append(Tag.array.rawValue)
            Varint.append(UInt64(items.count), to: &out)
            for item in items { encode(item, into: &out) }
        case .object(let members):
            out.append(Tag.object.rawValue)
            Varint.append(UInt64(members.count), to: &out)
            for member in sortedByKey(members) {
                appendKey(member.key, to: &out)
                encode(member.value, into: &out)
            }
        }
    }

    /// Object members in their packed order: by their keys' UTF-8 bytes.
    static func sortedByKey(_ members: [JSONValue.Member]) -> [JSONValue.Member] {
        members.count < 2 ? members : members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    static func appendKey(_ key: String, to out: inout [UInt8]) { appendBytes(key.utf8, to: &out) }

    private static func appendBytes(_ utf8: String.UTF8View, to out: inout [UInt8]) {
        Varint.append(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    /// Decodes packed bytes that hold exactly one value.
    /// - Throws: ``PackedJSONError`` when the bytes are cut short or malformed.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(PackedJSONError) -> JSONValue {
        var reader = ByteReader(bytes)
        let value = try decodeValue(&reader, depth: 0)
        guard reader.isAtEnd else { throw PackedJSONError(reason: "trailing bytes") }
        return value
    }

    /// Decodes packed bytes that hold exactly one value.
    public static func decode(_ bytes: [UInt8]) throws(PackedJSONError) -> JSONValue {
        try bytes.withUnsafeBytes { buffer in Result { () throws(PackedJSONError) in try decode(buffer) } }.get()
    }

    static func decodeValue(_ reader: inout ByteReader, depth: Int) throws(PackedJSONError) -> JSONValue {
        guard depth <= JSONParser.maximumDepth else { throw PackedJSONError(reason: "nesting too deep") }
        guard let raw = reader.readByte(), let tag = Tag(rawValue: raw) else {
            throw PackedJSONError(reason: "bad tag")
        }
        switch tag {
        case .null: return .null
        case .false: return .bool(false)
        case .true: return .bool(true)
        case .number: return .number(try readString(&reader))
        case .string: return .string(try readString(&reader))
        case .array:
            let count = try readCount(&reader)
            var items: [JSONValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try decodeValue(&reader, depth: depth + 1)) }
            return .array(items)
        case .object:
            let count = try readCount(&reader)
            var members: [JSONValue.Member] = []
            members.reserveCapacity(count)
            for _ in 0..<count {
                let key = try readString(&reader)
                members.append(JSONValue.Member(key, try decodeValue(&reader, depth: depth + 1)))
            }
            return .object(members)
        }
    }

    private static func readCount(_ reader: inout ByteReader) throws(PackedJSONError) -> Int {
        guard let n = reader.readVarint(), n <= UInt64(reader.remaining) else {
            throw PackedJSONError(reason: "bad count")
        }
        return Int(n)
    }

    private static func readString(_ reader: inout ByteReader) throws(PackedJSONError) -> String {
        guard let n = reader.readVarint(), let bytes = reader.readBytes(Int(clamping: n)) else {
            throw PackedJSONError(reason: "cut-short string")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Packed bytes that do not decode: a damaged record.
public struct PackedJSONError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "damaged packed JSON: \(reason)" }
}

/// Unsigned LEB128 varints.
public enum Varint {
    /// Appends `value` in 1 to 10 bytes.
    @inlinable
    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// Reads bytes, varints and fixed-width big-endian integers from a buffer,
/// returning nil (never trapping) when the buffer is too short.
@frozen
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public var offset = 0

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inlinable
    public var remaining: Int { bytes.count - offset }
    @inlinable
    public var isAtEnd: Bool { offset == bytes.count }

    @inlinable @inline(__always)
    public mutating func readByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inlinable @inline(__always)
    public mutating func readVarint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    /// Lends the next `count` bytes (a slice of the underlying buffer).
    @inlinable @inline(__always)
    public mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    /// A big-endian fixed-width integer.
    @inlinable
    public mutating func readBigEndian<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { return nil }
        let v = T(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }
}
