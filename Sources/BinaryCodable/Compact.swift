import JSON

/// A value written field by field in a fixed order, without names or tags:
/// what the read models and the rules' snapshots store (going through `Codable`
/// had cost a quarter of a rebuild).
///
/// Each type writes its fields in declaration order and reads them back in
/// the same order; the bytes carry no field names, so adding, removing or
/// reordering a field changes the format: raise the read models' and snapshots'
/// format numbers (derived data, rebuilt). The test of every type is a round
/// trip of real folded values.
///
/// | value | bytes |
/// |---|---|
/// | unsigned integer | LEB128 varint |
/// | signed integer | zigzag varint |
/// | Bool | 0 or 1 |
/// | String | varint length, UTF-8 |
/// | Optional | 0, or 1 and the value |
/// | Array, Set | varint count, the elements |
/// | Dictionary | varint count, per entry key then value |
/// | enum with a String raw value | the raw value |
public protocol CompactCodable {
    /// Appends the value's fields, in declaration order.
    func write(to writer: inout CompactWriter)
    /// Reads the fields back in the order ``write(to:)`` wrote them.
    /// - Throws: ``CompactError`` when the bytes end too soon or do not fit.
    init(from reader: inout CompactReader) throws(CompactError)
}

/// Bytes that do not read as the type expects.
public struct CompactError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension CompactCodable {
    /// The value's bytes.
    @inlinable
    public var compactBytes: [UInt8] {
        var writer = CompactWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// The value that fills `bytes`.
    @inlinable
    public init(compactBytes bytes: UnsafeRawBufferPointer) throws(CompactError) {
        var reader = CompactReader(bytes)
        self = try Self(from: &reader)
        guard reader.isAtEnd else { throw CompactError("\(Self.self): bytes left over") }
    }
}

/// Collects a value's compact bytes; each type appends its fields in order.
public struct CompactWriter {
    /// The bytes written so far.
    public var bytes: [UInt8] = []

    @inlinable
    public init() { bytes.reserveCapacity(512) }

    /// Appends an unsigned LEB128 varint.
    @inlinable
    public mutating func varint(_ value: UInt64) { Varint.append(value, to: &bytes) }

    /// Appends a field.
    @inlinable
    public mutating func write<T: CompactCodable>(_ value: T) { value.write(to: &self) }
}

/// Reads compact bytes field by field, throwing (never trapping) where they
/// end too soon or do not fit the type. Lends the buffer it reads: it must not
/// outlive it.
public struct CompactReader {
    @usableFromInline var reader: ByteReader

    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) { reader = ByteReader(bytes) }

    /// Whether every byte has been read.
    @inlinable
    public var isAtEnd: Bool { reader.isAtEnd }

    /// An unsigned LEB128 varint.
    @inlinable
    public mutating func varint() throws(CompactError) -> UInt64 {
        guard let value = reader.readVarint() else { throw CompactError("a number is cut short") }
        return value
    }

    /// A count of elements that follow: at most the bytes left (each takes one at least).
    @inlinable
    public mutating func count() throws(CompactError) -> Int {
        let n = try varint()
        guard n <= UInt64(reader.remaining) else { throw CompactError("a count exceeds the bytes left") }
        return Int(n)
    }

    /// The next `n` bytes, lent from the buffer.
    @inlinable
    public mutating func take(_ n: Int) throws(CompactError) -> UnsafeRawBufferPointer {
        guard let bytes = reader.readBytes(n) else { throw CompactError("a string is cut short") }
        return bytes
    }

    /// The next field, of the type the caller expects.
    @inlinable
    public mutating func read<T: CompactCodable>(_: T.Type = T.self) throws(CompactError) -> T { try T(from: &self) }
}

// MARK: The standard library's types

extension UInt64: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { w.varint(self) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) { self = try r.varint() }
}

extension UInt32: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { w.varint(UInt64(self)) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        guard let v = UInt32(exactly: try r.varint()) else { throw CompactError("a number out of range") }
        self = v
    }
}

extension Int64: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { w.varint(UInt64(bitPattern: (self << 1) ^ (self >> 63))) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        let z = try r.varint()
        self = Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
    }
}

extension Int32: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { Int64(self).write(to: &w) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        guard let v = Int32(exactly: try Int64(from: &r)) else { throw CompactError("a number out of range") }
        self = v
    }
}

extension Int: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { Int64(self).write(to: &w) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        guard let v = Int(exactly: try Int64(from: &r)) else { throw CompactError("a number out of range") }
        self = v
    }
}

extension Bool: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { w.bytes.append(self ? 1 : 0) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        switch try r.varint() {
        case 0: self = false
        case 1: self = true
        default: throw CompactError("a Bool is neither 0 nor 1")
        }
    }
}

extension String: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) {
        var s = self
        s.withUTF8 { utf8 in
            w.varint(UInt64(utf8.count))
            w.bytes.append(contentsOf: utf8)
        }
    }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        let n = try r.count()
        self = String(decoding: try r.take(n), as: UTF8.self)
    }
}

extension Optional: CompactCodable where Wrapped: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) {
        if let value = self {
            w.bytes.append(1)
            value.write(to: &w)
        } else {
            w.bytes.append(0)
        }
    }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        self = try Bool(from: &r) ? try Wrapped(from: &r) : nil
    }
}

extension CompactWriter {
    /// A count, then each element.
    @inlinable
    public mutating func writeElements<C: Collection>(_ elements: C) where C.Element: CompactCodable {
        varint(UInt64(elements.count))
        for element in elements { element.write(to: &self) }
    }
}

extension Array: CompactCodable where Element: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { w.writeElements(self) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        let n = try r.count()
        self = []
        reserveCapacity(n)
        for _ in 0..<n { append(try Element(from: &r)) }
    }
}

extension Set: CompactCodable where Element: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) { w.writeElements(self) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) { self.init(try [Element](from: &r)) }
}

extension Dictionary: CompactCodable where Key: CompactCodable, Value: CompactCodable {
    @inlinable public func write(to w: inout CompactWriter) {
        w.varint(UInt64(count))
        for (key, value) in self {
            key.write(to: &w)
            value.write(to: &w)
        }
    }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        let n = try r.count()
        self = [:]
        reserveCapacity(n)
        for _ in 0..<n {
            let key = try Key(from: &r)
            self[key] = try Value(from: &r)
        }
    }
}

/// Enums with a String raw value write it: stable when cases are added or reordered.
extension CompactCodable where Self: RawRepresentable, RawValue == String {
    @inlinable public func write(to w: inout CompactWriter) { rawValue.write(to: &w) }
    @inlinable public init(from r: inout CompactReader) throws(CompactError) {
        guard let value = Self(rawValue: try String(from: &r)) else { throw CompactError("\(Self.self): not one of its values") }
        self = value
    }
}
