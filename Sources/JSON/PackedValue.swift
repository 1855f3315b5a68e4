/// One packed value (``PackedJSON``) read in place: only the values asked for
/// become Swift values, so reading a few fields of a stored payload builds no
/// ``JSONValue`` tree.
///
/// Made with ``whole(_:)``, which accepts exactly what ``PackedJSON/decode(_:)``
/// accepts (tags, lengths, counts, nesting, no trailing bytes); values found
/// inside one lie within checked bytes. The view lends the buffer it was made
/// from and must not outlive it.
public struct PackedValue {
    /// The value's bytes, tag first.
    public let bytes: UnsafeRawBufferPointer

    fileprivate init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The value that fills `bytes`, or nil when they are not one well-formed
    /// packed value (where ``PackedJSON/decode(_:)`` would throw).
    public static func whole(_ bytes: UnsafeRawBufferPointer) -> PackedValue? {
        var cursor = Cursor(bytes)
        guard cursor.skipValue(depth: 0), cursor.offset == bytes.count else { return nil }
        return PackedValue(bytes)
    }

    private var tag: UInt8 { bytes.isEmpty ? 0xFF : bytes[0] }

    /// Whether the value is JSON's `null`.
    public var isNull: Bool { tag == PackedJSON.Tag.null.rawValue }

    /// The boolean, when the value is one.
    public var bool: Bool? {
        switch tag {
        case PackedJSON.Tag.false.rawValue: false
        case PackedJSON.Tag.true.rawValue: true
        default: nil
        }
    }

    /// A string's UTF-8 bytes, when the value is a string.
    public var stringBytes: UnsafeRawBufferPointer? {
        guard tag == PackedJSON.Tag.string.rawValue else { return nil }
        var cursor = Cursor(bytes)
        cursor.offset = 1
        return cursor.readCounted()
    }

    /// The string, when the value is one (decoded as ``PackedJSON`` decodes it).
    public var string: String? { stringBytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The members, when the value is an object.
    public var object: PackedObject? { PackedObject(bytes) }

    /// How many items, when the value is an array.
    public var itemCount: Int? { firstItem?.count }

    /// A cursor at the first item, and how many there are, when the value is an array.
    private var firstItem: (cursor: Cursor, count: Int)? {
        guard tag == PackedJSON.Tag.array.rawValue else { return nil }
        var cursor = Cursor(bytes)
        cursor.offset = 1
        guard let count = cursor.readCount() else { return nil }
        return (cursor, count)
    }

    /// Visits the items in order, when the value is an array, without an
    /// array of them; false when it is not one or an item does not read.
    public func forEachItem<E: Error>(_ body: (PackedValue) throws(E) -> Void) throws(E) -> Bool {
        guard let (first, count) = firstItem else { return false }
        var cursor = first
        for _ in 0..<count {
            let start = cursor.offset
            guard cursor.skipValue(depth: 1) else { return false }
            try body(PackedValue(cursor.slice(start)))
        }
        return true
    }

    /// Visits the items in order as objects, when the value is an array of
    /// them; false when it is not one or an item is not a well-formed object.
    /// Each item is walked once: its object, checked, says where it ends
    /// (``forEachItem`` then ``object`` would walk it twice).
    public func forEachObject<E: Error>(_ body: (PackedObject) throws(E) -> Void) throws(E) -> Bool {
        guard let (first, count) = firstItem else { return false }
        var cursor = first
        for _ in 0..<count {
            guard let object = PackedObject(UnsafeRawBufferPointer(rebasing: bytes[cursor.offset...])) else { return false }
            cursor.offset += object.end
            try body(object)
        }
        return true
    }

    /// The items, when the value is an array.
    public var items: [PackedValue]? {
        var out: [PackedValue] = []
        return forEachItem { out.append($0) } ? out : nil
    }
}

/// A packed object's members, checked in one pass over its bytes, which
/// notes where each of the first ``remembered`` members begins: nothing is
/// allocated (a rebuild reads one or more objects for every event), and a
/// member is found without stepping over the values before it again. A reader
/// that asks for the members in the order they are stored (the catalogue's
/// readers do) passes a hint and finds each at the first place it looks.
public struct PackedObject {
    private let bytes: UnsafeRawBufferPointer
    /// The number of members.
    public let count: Int
    /// Where the first member begins.
    private let first: Int
    /// Where the members end.
    fileprivate let end: Int
    /// Whether every member's name is ASCII.
    public let namesAreASCII: Bool
    /// Where each of the first ``remembered`` members begins (its name's
    /// length); a member past them is found by walking on from the last.
    private var starts = InlineArray<16, Int32>(repeating: 0)

    /// How many members' places an object keeps (the catalogue's payloads have fewer).
    public static let remembered = 16

    /// The object that fills `bytes`, or nil when they are not one well-formed
    /// packed object: ``PackedValue/whole(_:)`` and ``PackedValue/object`` in one pass.
    public static func whole(_ bytes: UnsafeRawBufferPointer) -> PackedObject? {
        guard let object = PackedObject(bytes), object.end == bytes.count else { return nil }
        return object
    }

    fileprivate init?(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        guard bytes.first == PackedJSON.Tag.object.rawValue, bytes.count <= Int(Int32.max) else { return nil }
        var cursor = Cursor(bytes)
        cursor.offset = 1
        guard let count = cursor.readCount() else { return nil }
        first = cursor.offset
        var ascii = true
        for k in 0..<count {
            let start = cursor.offset
            guard let n = cursor.readCount() else { return nil }
            if ascii {
                for i in cursor.offset..<cursor.offset + n where bytes[i] >= 0x80 { ascii = false }
            }
            cursor.offset += n
            if k < Self.remembered { starts[k] = Int32(start) }
            guard cursor.skipValue(depth: 1) else { return nil }
        }
        self.count = count
        self.namesAreASCII = ascii
        end = cursor.offset
    }

    /// Where to start looking for the first member.
    public var startHint: Int { 0 }

    /// The first member whose name has the bytes of `key`.
    public func member(_ key: String) -> PackedValue? {
        var hint = 0
        return member(key, hint: &hint)
    }

    /// The member whose name has the bytes of `key`, looked for from the
    /// `hint`th member (one past the member the last look found) to the last,
    /// then from the first. The bytes were checked when the object was made,
    /// so no look can leave them.
    public func member(_ key: String, hint: inout Int) -> PackedValue? {
        guard count > 0 else { return nil }
        var key = key
        return key.withUTF8 { wanted -> PackedValue? in
            var k = hint >= 0 && hint < count ? hint : 0
            for _ in 0..<count {
                let (name, value) = places(of: k)
                if name.count == wanted.count && memcmpEqual(bytes.baseAddress! + name.lowerBound, wanted.baseAddress, name.count) {
                    hint = k + 1
                    return PackedValue(UnsafeRawBufferPointer(rebasing: bytes[value]))
                }
                k = k + 1 == count ? 0 : k + 1
            }
            return nil
        }
    }

    /// The byte ranges of the `k`th member's name and value.
    private func places(of k: Int) -> (name: Range<Int>, value: Range<Int>) {
        var cursor = Cursor(bytes)
        if k < Self.remembered {
            cursor.offset = Int(starts[k])
        } else {
            cursor.offset = Int(starts[Self.remembered - 1])
            for _ in Self.remembered - 1..<k {
                _ = cursor.readCounted()
                _ = cursor.skipValue(depth: 1)
            }
        }
        let n = cursor.readCount()!
        let name = cursor.offset..<cursor.offset + n
        cursor.offset += n
        let valueStart = cursor.offset
        let valueEnd: Int
        if k + 1 < min(count, Self.remembered) {
            valueEnd = Int(starts[k + 1])
        } else if k + 1 == count {
            valueEnd = end
        } else {
            _ = cursor.skipValue(depth: 1)
            valueEnd = cursor.offset
        }
        return (name, valueStart..<valueEnd)
    }
}

@inline(__always)
private func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafePointer<UInt8>?, _ count: Int) -> Bool {
    guard count > 0, let b else { return true }
    for i in 0..<count where a.load(fromByteOffset: i, as: UInt8.self) != b[i] { return false }
    return true
}

/// Steps through packed bytes with the checks ``PackedJSON/decode(_:)`` makes.
private struct Cursor {
    var reader: ByteReader

    init(_ bytes: UnsafeRawBufferPointer) { reader = ByteReader(bytes) }

    var offset: Int {
        get { reader.offset }
        set { reader.offset = newValue }
    }

    func slice(_ start: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: reader.bytes[start..<reader.offset]) }

    /// A count or length, at most the bytes left (as the decoder requires of a count).
    @inline(__always)
    mutating func readCount() -> Int? {
        guard let n = reader.readVarint(), n <= UInt64(reader.remaining) else { return nil }
        return Int(n)
    }

    /// A varint length and that many bytes.
    @inline(__always)
    mutating func readCounted() -> UnsafeRawBufferPointer? {
        guard let n = readCount() else { return nil }
        return reader.readBytes(n)
    }

    /// Steps over one value; false where decoding would throw.
    mutating func skipValue(depth: Int) -> Bool {
        guard depth <= JSONParser.maximumDepth, let raw = reader.readByte(), let tag = PackedJSON.Tag(rawValue: raw) else { return false }
        switch tag {
        case .null, .false, .true:
            return true
        case .number, .string:
            return readCounted() != nil
        case .array:
            guard let n = readCount() else { return false }
            for _ in 0..<n where !skipValue(depth: depth + 1) { return false }
            return true
        case .object:
            guard let n = readCount() else { return false }
            for _ in 0..<n {
                guard readCounted() != nil, skipValue(depth: depth + 1) else { return false }
            }
            return true
        }
    }
}
