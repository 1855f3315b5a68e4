import Testing
@testable import JSON

struct ParserTests {
    @Test func parsesAndWritesBackCompactly() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null],"b":"Ærlig talt \"søt\"\n","c":{}}"#
        #expect(try JSONParser.parse(text).jsonText == text)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""\u00e6\ud83d\ude00\t\/""#)
        #expect(value == .string("æ😀\t/"))
    }

    @Test(arguments: [
        ("", "empty input"),
        ("{", "expected a key"),
        ("[", "unexpected end"),
        (#"{"a":1,"a":2}"#, "duplicate key"),
        (#"{"a":1} x"#, "after the JSON value"),
        ("[01]", "leading zero"),
        ("[1.]", "invalid fraction"),
        (#""\ud800""#, "lone surrogate"),
        ("\"a\u{01}\"", "control character"),
        (#"{"a" 1}"#, "expected ':'"),
        ("[1 2]", "expected ','"),
        ("tru", "unexpected end"),
        (#""\x""#, "invalid escape"),
    ])
    func refusesMalformedInput(text: String, reason: String) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONSyntaxError)?.reason.contains(reason) == true
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { _ = try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { _ = try JSONParser.parse([0x22, 0x61, 0x62, 0xC3, 0x22]) }  // cut after ASCII
        #expect(throws: JSONSyntaxError.self) { _ = try JSONParser.parse([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22]) }  // after an escape
    }

    @Test func refusesDeepNestingWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect { _ = try JSONParser.parse(deep) } throws: { error in
            (error as? JSONSyntaxError)?.reason.contains("nesting") == true
        }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { _ = try JSONParser.parse(ok) }
    }

    @Test func escapesControlCharactersWhenWriting() throws {
        let value = JSONValue.string("a\u{0}b\u{1F}\"\\")
        #expect(value.jsonText == #""a\u0000b\u001f\"\\""#)
        #expect(try JSONParser.parse(value.jsonText) == value)
    }
}

struct PackedTests {
    @Test func roundTripsEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"{"z":[1,"to",{"x":null}],"a":true,"m":-0.5,"ø":"æøå","e":[],"o":{}}"#)
        let decoded = try PackedJSON.decode(PackedJSON.encode(value))
        // Members come back sorted by key; the value is otherwise the same.
        #expect(decoded["z"] == value["z"])
        #expect(decoded["ø"] == .string("æøå"))
        #expect(decoded.objectValue?.map(\.key) == ["a", "e", "m", "o", "z", "ø"])
    }

    @Test func oneValueHasOnePackedForm() throws {
        let a = try JSONParser.parse(#"{"b":1,"a":{"d":2,"c":3}}"#)
        let b = try JSONParser.parse(#"{"a":{"c":3,"d":2},"b":1}"#)
        #expect(PackedJSON.encode(a) == PackedJSON.encode(b))
    }

    @Test func damagedBytesAreAnErrorNotACrash() throws {
        let bytes = PackedJSON.encode(try JSONParser.parse(#"{"key":["value",1,true]}"#))
        for cut in 0..<bytes.count {
            #expect(throws: PackedJSONError.self) { _ = try PackedJSON.decode(Array(bytes[..<cut])) }
        }
        #expect(throws: PackedJSONError.self) { _ = try PackedJSON.decode([9]) }
        #expect(throws: PackedJSONError.self) { _ = try PackedJSON.decode([5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) }
    }
}

import BinaryCodable

/// The compact form's building blocks, at the edges of their encodings.
struct CompactFormTests {
    func roundTrip<T: CompactCodable & Equatable>(_ value: T) throws -> T {
        try value.compactBytes.withUnsafeBytes { try T(compactBytes: $0) }
    }

    @Test func integersAtTheirLimits() throws {
        for v: Int64 in [0, 1, -1, 63, -64, 64, -65, .max, .min] { #expect(try roundTrip(v) == v) }
        for v: UInt64 in [0, 127, 128, 16_383, 16_384, .max] { #expect(try roundTrip(v) == v) }
        for v: Int32 in [.max, .min] { #expect(try roundTrip(v) == v) }
        #expect(Int64(-1).compactBytes == [1] && Int64(1).compactBytes == [2])  // zigzag
        // A number that does not fit the type read is refused, not truncated.
        #expect(throws: CompactError.self) { try Int64(Int64(Int32.max) + 1).compactBytes.withUnsafeBytes { try Int32(compactBytes: $0) } }
        #expect(throws: CompactError.self) { try (UInt64(UInt32.max) + 1).compactBytes.withUnsafeBytes { try UInt32(compactBytes: $0) } }
    }

    /// Lengths across the varint boundaries (127/128, 16,383/16,384 bytes) read back.
    @Test func stringsAndCollectionsAcrossLengthBoundaries() throws {
        for n in [0, 1, 127, 128, 16_383, 16_384, 20_000] {
            let text = String(repeating: "a", count: n)
            #expect(try roundTrip(text) == text, "\(n)")
            #expect(try roundTrip([text, "Ærlig"]) == [text, "Ærlig"])
        }
        let nested: [String: [String?]] = ["k": ["x", nil, ""], "": []]
        #expect(try roundTrip(nested) == nested)
        #expect(try roundTrip(Set(["a", "b", "c"])) == Set(["a", "b", "c"]))
        let optional: String?? = .some(nil)
        #expect(try roundTrip(optional) == optional)
    }

    @Test func damagedBytesAreAnErrorNotACrash() throws {
        let bytes = ["hello", "world"].compactBytes
        for cut in 0..<bytes.count {
            #expect(throws: CompactError.self) { try Array(bytes[..<cut]).withUnsafeBytes { try [String](compactBytes: $0) } }
        }
        // A count larger than the bytes left is refused before anything is reserved.
        #expect(throws: CompactError.self) { try [UInt8](arrayLiteral: 0xFF, 0xFF, 0xFF, 0x7F).withUnsafeBytes { try [String](compactBytes: $0) } }
        #expect(throws: CompactError.self) { try [UInt8]([2]).withUnsafeBytes { try Bool(compactBytes: $0) } }
    }
}
