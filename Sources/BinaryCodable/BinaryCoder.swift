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
/// asked for. Derived data only: a change of this format changes the read
/// models' and snapshots' format numbers, and they are rebuilt.
public enum BinaryCoder {
    /// The bytes of `value`.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = BinaryEncoderImpl()
        try value.encode(to: encoder)
        guard let root = encoder.root else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(root.size())
        root.write(to: &out)
        return out
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

/// The value tree built while encoding (containers must know their length before they are written).
final class Node {
    enum Kind {
        case null, bool(Bool), int(Int64), string(String), double(Double)
        case keyed([(String, Node)]), unkeyed([Node])
    }
    var kind: Kind
    /// A container's body size in bytes, once computed.
    private var bodySize = -1
    init(_ kind: Kind) { self.kind = kind }

    /// The bytes ``write(to:)`` writes.
    func size() -> Int {
        switch kind {
        case .null, .bool: return 1
        case .int(let v): return 1 + varintSize(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
        case .string(let s): return 1 + varintSize(UInt64(s.utf8.count)) + s.utf8.count
        case .double: return 9
        case .keyed, .unkeyed:
            let body = containerBodySize()
            return 1 + varintSize(UInt64(body)) + body
        }
    }

    private func containerBodySize() -> Int {
        if bodySize >= 0 { return bodySize }
        switch kind {
        case .keyed(let entries):
            bodySize = varintSize(UInt64(entries.count))
            for (key, node) in entries { bodySize += varintSize(UInt64(key.utf8.count)) + key.utf8.count + node.size() }
        case .unkeyed(let items):
            bodySize = varintSize(UInt64(items.count))
            for node in items { bodySize += node.size() }
        default:
            bodySize = 0
        }
        return bodySize
    }

    /// Writes the value; a container's byte length comes first, known from
    /// ``size()`` without writing the body twice.
    func write(to out: inout [UInt8]) {
        switch kind {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .int(let v):
            out.append(3)
            varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), &out)
        case .string(let s):
            out.append(4)
            varint(UInt64(s.utf8.count), &out)
            out.append(contentsOf: s.utf8)
        case .double(let d):
            out.append(5)
            var bits = d.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
        case .keyed(let entries):
            out.append(6)
            varint(UInt64(containerBodySize()), &out)
            varint(UInt64(entries.count), &out)
            for (key, node) in entries {
                varint(UInt64(key.utf8.count), &out)
                out.append(contentsOf: key.utf8)
                node.write(to: &out)
            }
        case .unkeyed(let items):
            out.append(7)
            varint(UInt64(containerBodySize()), &out)
            varint(UInt64(items.count), &out)
            for node in items { node.write(to: &out) }
        }
    }
}

@inline(__always)
func varintSize(_ value: UInt64) -> Int {
    value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
}

@inline(__always)
func varint(_ value: UInt64, _ out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

final class BinaryEncoderImpl: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var root: Node?

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node = Node(.keyed([]))
        root = node
        return KeyedEncodingContainer(KeyedEncoder<Key>(node: node))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let node = Node(.unkeyed([]))
        root = node
        return UnkeyedEncoder(node: node)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleEncoder(encoder: self) }

    /// Encodes a nested value into its own node.
    static func node<T: Encodable>(_ value: T) throws -> Node {
        switch value {
        case let v as String: return Node(.string(v))
        case let v as Int: return Node(.int(Int64(v)))
        case let v as Int32: return Node(.int(Int64(v)))
        case let v as UInt64: return Node(.int(Int64(bitPattern: v)))
        case let v as Bool: return Node(.bool(v))
        default:
            let encoder = BinaryEncoderImpl()
            try value.encode(to: encoder)
            return encoder.root ?? Node(.null)
        }
    }
}

struct SingleEncoder: SingleValueEncodingContainer {
    let encoder: BinaryEncoderImpl
    var codingPath: [any CodingKey] { [] }
    func set(_ kind: Node.Kind) { encoder.root = Node(kind) }
    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(.int(Int64(bitPattern: UInt64(value)))) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(.int(Int64(bitPattern: value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.root = try BinaryEncoderImpl.node(value) }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    var codingPath: [any CodingKey] { [] }

    func append(_ key: Key, _ child: Node) {
        if case .keyed(var entries) = node.kind {
            node.kind = .null
            entries.append((key.stringValue, child))
            node.kind = .keyed(entries)
        }
    }

    mutating func encodeNil(forKey key: Key) throws { append(key, Node(.null)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { append(key, try BinaryEncoderImpl.node(value)) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { append(key, try BinaryEncoderImpl.node(value)) }
    }
    // The scalar overloads, so synthesized `encode(to:)` reaches no dynamic cast.
    mutating func encode(_ value: String, forKey key: Key) throws { append(key, Node(.string(value))) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { append(key, Node(.bool(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { append(key, Node(.int(Int64(value)))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { append(key, Node(.int(Int64(value)))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { append(key, Node(.int(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { append(key, Node(.int(Int64(value)))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { append(key, Node(.int(Int64(bitPattern: value)))) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Node(.keyed([]))
        append(key, child)
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(node: child))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Node(.unkeyed([]))
        append(key, child)
        return UnkeyedEncoder(node: child)
    }
    mutating func superEncoder() -> any Encoder { fatalError("superEncoder is not supported") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("superEncoder is not supported") }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey] { [] }
    var count: Int {
        if case .unkeyed(let items) = node.kind { return items.count }
        return 0
    }

    func append(_ child: Node) {
        if case .unkeyed(var items) = node.kind {
            node.kind = .null
            items.append(child)
            node.kind = .unkeyed(items)
        }
    }

    mutating func encodeNil() throws { append(Node(.null)) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try BinaryEncoderImpl.node(value)) }
    mutating func encode(_ value: String) throws { append(Node(.string(value))) }
    mutating func encode(_ value: Bool) throws { append(Node(.bool(value))) }
    mutating func encode(_ value: Int) throws { append(Node(.int(Int64(value)))) }
    mutating func encode(_ value: Int32) throws { append(Node(.int(Int64(value)))) }
    mutating func encode(_ value: UInt64) throws { append(Node(.int(Int64(bitPattern: value)))) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Node(.keyed([]))
        append(child)
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(node: child))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Node(.unkeyed([]))
        append(child)
        return UnkeyedEncoder(node: child)
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
        var result: UInt64 = 0, shift: UInt64 = 0
        while shift < 64 {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        throw BinaryCoderError(description: "bad varint")
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
