/// A compact binary form for `Codable` values: what the read models and the
/// domain's snapshots store, because Foundation's JSONEncoder spent more time
/// writing a read model than folding it.
///
/// Every value is self-describing, so any `Codable` type round-trips:
///
/// | tag | value | then |
/// |---|---|---|
/// | 0 | nil | |
/// | 1 | false | |
/// | 2 | true | |
/// | 3 | integer | zigzag varint |
/// | 4 | string | varint length, UTF-8 |
/// | 5 | double | 8 bytes, little-endian bit pattern |
/// | 6 | keyed container | varint byte length, varint count, per entry: key (varint length, UTF-8), value |
/// | 7 | unkeyed container | varint byte length, varint count, the values |
///
/// Containers carry their byte length so a decoder can skip an entry it is not
/// asked for. The encoder writes a container's length and count as varints of
/// at least 3 bytes (padded with continuation bits; see ``Writer``). Derived data only: a change of this format changes the read
/// models' and snapshots' format numbers, and they are rebuilt.
public enum BinaryCoder {
    /// The bytes of `value`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = Writer()
        try writer.value(value, in: -1)
        writer.close(above: -1)
        if let failure = writer.failure { throw failure }
        return writer.out
    }

    /// Decodes a value from bytes written by ``encode(_:)``.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { buffer in
            var reader = Reader(bytes: buffer, offset: 0)
            let node = try reader.node()
            return try T(from: BinaryDecoderImpl(node: node, codingPath: []))
        }
    }
}

/// A decoding failure: the bytes are not what the type expects.
public struct BinaryCoderError: Error, CustomStringConvertible {
    public var description: String
}

// MARK: Encoding

/// Writes values straight into one byte buffer as `Codable` hands them over:
/// no tree of nodes, no allocation per value.
///
/// A container's byte length and count come before its body, so they are
/// reserved as 3-byte varints (padded with continuation bits, which every
/// varint reader accepts) and filled in when the container is closed; a body of
/// 2 MB or more moves up to make room for a longer varint. A container is
/// closed when a value is next written into one of its ancestors, or at the
/// end: synthesized `Codable` fills nested containers one after the other,
/// which is all this allows (writing into a closed container throws).
final class Writer {
    /// Unchecked exclusivity: the writer is confined to one `encode` call, and
    /// the dynamic checks on every append cost a fifth of the encoding.
    @exclusivity(unchecked) var out: [UInt8] = []
    /// The open containers, outermost first: where each starts (its tag), how
    /// many entries it has, and a serial number telling containers apart.
    @exclusivity(unchecked) private var open: [(start: Int, count: Int, serial: Int)] = []
    private var serials = 0
    private static let reserved = 3
    /// A write into a closed container, found where it could not be thrown
    /// (`nestedContainer`); ``BinaryCoder/encode(_:)`` throws it at the end.
    var failure: (any Error)?

    init() { out.reserveCapacity(512) }

    /// Opens a container (tag 6 or 7) as the value being written; returns its depth and serial.
    func begin(_ tag: UInt8) -> (depth: Int, serial: Int) {
        serials += 1
        open.append((out.count, 0, serials))
        out.append(tag)
        out.append(contentsOf: [0x80, 0x80, 0x00, 0x80, 0x80, 0x00])  // length and count, filled in by close
        return (open.count - 1, serials)
    }

    /// Starts an entry of the container at `depth` (closing any deeper ones).
    func entry(in depth: Int, serial: Int) throws {
        close(above: depth)
        guard depth < open.count, open[depth].serial == serial else {
            let error = EncodingError.invalidValue((), .init(codingPath: [], debugDescription: "a value was written into a container already closed"))
            failure = failure ?? error
            throw error
        }
        open[depth].count += 1
    }

    /// The entry count of the container at `depth`, if it is still open.
    func count(at depth: Int, serial: Int) -> Int {
        depth < open.count && open[depth].serial == serial ? open[depth].count : 0
    }

    /// Closes the containers deeper than `depth`, filling in their lengths and counts.
    func close(above depth: Int) {
        while open.count > depth + 1 {
            let c = open.removeLast()
            let bodyStart = c.start + 1 + 2 * Self.reserved
            let entries = out.count - bodyStart
            let countWidth = max(Self.reserved, varintSize(UInt64(c.count)))
            let length = countWidth + entries
            let lengthWidth = max(Self.reserved, varintSize(UInt64(length)))
            let extra = countWidth + lengthWidth - 2 * Self.reserved
            if extra > 0 { out.insert(contentsOf: repeatElement(0, count: extra), at: bodyStart) }
            var at = c.start + 1
            Self.padded(UInt64(length), width: lengthWidth, at: &at, in: &out)
            Self.padded(UInt64(c.count), width: countWidth, at: &at, in: &out)
        }
    }

    private static func padded(_ value: UInt64, width: Int, at offset: inout Int, in out: inout [UInt8]) {
        var v = value
        for i in 0..<width {
            out[offset] = UInt8(truncatingIfNeeded: v & 0x7F) | (i < width - 1 ? 0x80 : 0)
            v >>= 7
            offset += 1
        }
    }

    /// `value` as `U`, which the caller has checked is its type.
    @inline(__always)
    private static func reinterpret<T, U>(_ value: T) -> U {
        precondition(T.self == U.self)
        return withUnsafePointer(to: value) { $0.withMemoryRebound(to: U.self, capacity: 1) { $0.pointee } }
    }

    func null() { out.append(0) }
    func bool(_ b: Bool) { out.append(b ? 2 : 1) }
    func int(_ v: Int64) {
        out.append(3)
        varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), &out)
    }
    func string(_ s: String) {
        out.append(4)
        key(s)
    }
    func double(_ d: Double) {
        out.append(5)
        var bits = d.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
    }
    /// A key, or a string's body: varint length, UTF-8.
    func key(_ k: String) {
        var k = k
        k.withUTF8 { utf8 in
            varint(UInt64(utf8.count), &out)
            out.append(contentsOf: utf8)
        }
    }

    /// Writes one value inside the container at `depth` (-1: the root); a value
    /// whose `encode(to:)` writes nothing is written as nil.
    func value<T: Encodable>(_ value: T, in depth: Int) throws {
        // Metatype comparisons, not `as?` casts: a failed dynamic cast for every
        // nested value cost more than writing it.
        if T.self == String.self {
            string(Self.reinterpret(value))
        } else if T.self == Int.self {
            int(Int64(Self.reinterpret(value) as Int))
        } else if T.self == Int32.self {
            int(Int64(Self.reinterpret(value) as Int32))
        } else if T.self == UInt64.self {
            int(Int64(bitPattern: Self.reinterpret(value) as UInt64))
        } else if T.self == Bool.self {
            bool(Self.reinterpret(value))
        } else {
            let before = out.count
            try value.encode(to: ValueEncoder(writer: self, depth: depth))
            if out.count == before { null() }
        }
    }
}

@inline(__always)
func varintSize(_ value: UInt64) -> Int {
    value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
}

/// Appends `value` as an unsigned LEB128 varint (both coders' integers and lengths).
@usableFromInline @inline(__always)
func varint(_ value: UInt64, _ out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

/// Reads an unsigned LEB128 varint at `offset` and moves past it; nil when the
/// bytes end first or it runs past 64 bits.
@usableFromInline @inline(__always)
func readVarint(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
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

/// The encoder handed to one value's `encode(to:)`: its container is opened
/// where the value stands, inside the container at `depth`.
struct ValueEncoder: Encoder {
    let writer: Writer
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (d, serial) = writer.begin(6)
        return KeyedEncodingContainer(KeyedEncoder<Key>(writer: writer, depth: d, serial: serial))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let (d, serial) = writer.begin(7)
        return UnkeyedEncoder(writer: writer, depth: d, serial: serial)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleEncoder(writer: writer, depth: depth) }
}

struct SingleEncoder: SingleValueEncodingContainer {
    let writer: Writer
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    mutating func encodeNil() throws { writer.null() }
    mutating func encode(_ value: Bool) throws { writer.bool(value) }
    mutating func encode(_ value: String) throws { writer.string(value) }
    mutating func encode(_ value: Double) throws { writer.double(value) }
    mutating func encode(_ value: Float) throws { writer.double(Double(value)) }
    mutating func encode(_ value: Int) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: Int8) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: Int16) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: Int64) throws { writer.int(value) }
    mutating func encode(_ value: UInt) throws { writer.int(Int64(bitPattern: UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: UInt16) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: UInt32) throws { writer.int(Int64(value)) }
    mutating func encode(_ value: UInt64) throws { writer.int(Int64(bitPattern: value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.value(value, in: depth) }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: Writer
    let depth: Int
    let serial: Int
    var codingPath: [any CodingKey] { [] }

    private func entry(_ key: Key) throws {
        try writer.entry(in: depth, serial: serial)
        writer.key(key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { try entry(key); writer.null() }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try entry(key); try writer.value(value, in: depth) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
    // The scalar overloads, so synthesized `encode(to:)` reaches no dynamic cast.
    mutating func encode(_ value: String, forKey key: Key) throws { try entry(key); writer.string(value) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try entry(key); writer.bool(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try entry(key); writer.int(Int64(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try entry(key); writer.int(Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try entry(key); writer.int(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try entry(key); writer.int(Int64(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try entry(key); writer.int(Int64(bitPattern: value)) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        // Cannot throw here: the writer keeps the failure and `encode` throws it.
        try? entry(key)
        let (d, s) = writer.begin(6)
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(writer: writer, depth: d, serial: s))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        try? entry(key)
        let (d, s) = writer.begin(7)
        return UnkeyedEncoder(writer: writer, depth: d, serial: s)
    }
    mutating func superEncoder() -> any Encoder { fatalError("superEncoder is not supported") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("superEncoder is not supported") }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let writer: Writer
    let depth: Int
    let serial: Int
    var codingPath: [any CodingKey] { [] }
    var count: Int { writer.count(at: depth, serial: serial) }

    private func entry() throws { try writer.entry(in: depth, serial: serial) }

    mutating func encodeNil() throws { try entry(); writer.null() }
    mutating func encode<T: Encodable>(_ value: T) throws { try entry(); try writer.value(value, in: depth) }
    mutating func encode(_ value: String) throws { try entry(); writer.string(value) }
    mutating func encode(_ value: Bool) throws { try entry(); writer.bool(value) }
    mutating func encode(_ value: Int) throws { try entry(); writer.int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try entry(); writer.int(Int64(value)) }
    mutating func encode(_ value: UInt64) throws { try entry(); writer.int(Int64(bitPattern: value)) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        try? entry()
        let (d, s) = writer.begin(6)
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(writer: writer, depth: d, serial: s))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        try? entry()
        let (d, s) = writer.begin(7)
        return UnkeyedEncoder(writer: writer, depth: d, serial: s)
    }
    mutating func superEncoder() -> any Encoder { fatalError("superEncoder is not supported") }
}

// MARK: Decoding

/// A parsed value: scalars decoded, containers as their entries.
indirect enum Parsed {
    case null, bool(Bool), int(Int64), string(String), double(Double)
    case keyed([(String, Parsed)]), unkeyed([Parsed])
}

struct Reader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw BinaryCoderError(description: "cut short") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws -> UInt64 {
        guard let value = readVarint(bytes, &offset) else { throw BinaryCoderError(description: "bad varint") }
        return value
    }

    mutating func string() throws -> String {
        let n = Int(try varint())
        guard n <= bytes.count - offset else { throw BinaryCoderError(description: "cut short") }
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]), as: UTF8.self)
    }

    mutating func node() throws -> Parsed {
        switch try byte() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3:
            let z = try varint()
            return .int(Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1))
        case 4: return .string(try string())
        case 5:
            guard offset + 8 <= bytes.count else { throw BinaryCoderError(description: "cut short") }
            defer { offset += 8 }
            return .double(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
        case 6:
            _ = try varint()
            let count = Int(try varint())
            var entries: [(String, Parsed)] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append((try string(), try node())) }
            return .keyed(entries)
        case 7:
            _ = try varint()
            let count = Int(try varint())
            var items: [Parsed] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try node()) }
            return .unkeyed(items)
        default:
            throw BinaryCoderError(description: "bad tag")
        }
    }
}

struct BinaryDecoderImpl: Decoder {
    let node: Parsed
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .keyed(let entries) = node else { throw BinaryCoderError(description: "expected a keyed container at \(codingPath.map(\.stringValue))") }
        return KeyedDecodingContainer(KeyedDecoder<Key>(entries: entries, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .unkeyed(let items) = node else { throw BinaryCoderError(description: "expected an unkeyed container at \(codingPath.map(\.stringValue))") }
        return UnkeyedDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleDecoder(node: node, codingPath: codingPath) }
}

func decodeValue<T: Decodable>(_ type: T.Type, _ node: Parsed, _ path: [any CodingKey]) throws -> T {
    switch node {
    case .string(let s) where T.self == String.self: return s as! T
    case .int(let v) where T.self == Int.self: return Int(v) as! T
    case .int(let v) where T.self == Int32.self: return Int32(truncatingIfNeeded: v) as! T
    case .int(let v) where T.self == UInt64.self: return UInt64(bitPattern: v) as! T
    case .bool(let b) where T.self == Bool.self: return b as! T
    default: return try T(from: BinaryDecoderImpl(node: node, codingPath: path))
    }
}

struct SingleDecoder: SingleValueDecodingContainer {
    let node: Parsed
    var codingPath: [any CodingKey]

    func decodeNil() -> Bool { if case .null = node { return true }; return false }
    func int() throws -> Int64 {
        guard case .int(let v) = node else { throw BinaryCoderError(description: "expected an integer at \(codingPath.map(\.stringValue))") }
        return v
    }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = node else { throw BinaryCoderError(description: "expected a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = node else { throw BinaryCoderError(description: "expected a string at \(codingPath.map(\.stringValue))") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard case .double(let d) = node else { throw BinaryCoderError(description: "expected a number") }
        return d
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { Int(try int()) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(truncatingIfNeeded: try int()) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(truncatingIfNeeded: try int()) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(truncatingIfNeeded: try int()) }
    func decode(_ type: Int64.Type) throws -> Int64 { try int() }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(truncatingIfNeeded: UInt64(bitPattern: try int())) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(truncatingIfNeeded: try int()) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(truncatingIfNeeded: try int()) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(truncatingIfNeeded: try int()) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(bitPattern: try int()) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, node, codingPath) }
}

struct KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: [(String, Parsed)]
    var codingPath: [any CodingKey]

    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.0) } }
    func contains(_ key: Key) -> Bool { entries.contains { $0.0 == key.stringValue } }

    func find(_ key: Key) throws -> Parsed {
        let name = key.stringValue
        guard let entry = entries.first(where: { $0.0 == name }) else {
            throw BinaryCoderError(description: "no \(name) at \(codingPath.map(\.stringValue))")
        }
        return entry.1
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let entry = entries.first(where: { $0.0 == key.stringValue }) else { return true }
        if case .null = entry.1 { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, try find(key), codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let entry = entries.first(where: { $0.0 == key.stringValue }) else { return nil }
        if case .null = entry.1 { return nil }
        return try decodeValue(type, entry.1, codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try BinaryDecoderImpl(node: try find(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try BinaryDecoderImpl(node: try find(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { throw BinaryCoderError(description: "superDecoder is not supported") }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw BinaryCoderError(description: "superDecoder is not supported") }
}

struct UnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [Parsed]
    var codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [Parsed], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func next() throws -> Parsed {
        guard currentIndex < items.count else { throw BinaryCoderError(description: "no more items") }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < items.count, case .null = items[currentIndex] else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, try next(), codingPath) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try BinaryDecoderImpl(node: try next(), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try BinaryDecoderImpl(node: try next(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder { throw BinaryCoderError(description: "superDecoder is not supported") }
}
