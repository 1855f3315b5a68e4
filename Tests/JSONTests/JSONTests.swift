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

struct BinaryCoderTests {
    struct Sample: Codable, Equatable {
        enum Kind: String, Codable { case a, b }
        var name: String
        var count: Int
        var big: UInt64
        var flag: Bool
        var ratio: Double
        var optional: String?
        var missing: Int?
        var list: [Int32]
        var nested: [String: [Kind]]
        var keyedByEnum: [Kind: String]
        var tuples: [Sample2]
    }
    struct Sample2: Codable, Equatable { var x: Int8; var y: String? }

    @Test func roundTripsNestedValues() throws {
        let value = Sample(name: "Ærlig", count: -42, big: .max, flag: true, ratio: 0.25, optional: "x", missing: nil,
                           list: [1, -2, 3], nested: ["k": [.a, .b], "": []], keyedByEnum: [.a: "1", .b: "2"],
                           tuples: [Sample2(x: -1, y: nil), Sample2(x: 7, y: "z")])
        #expect(try BinaryCoder.decode(Sample.self, from: BinaryCoder.encode(value)) == value)
    }

    /// Containers write their byte length first, computed before the body:
    /// lengths across the varint boundaries (127/128, 16,383/16,384 bytes) read back.
    @Test func containerLengthsAcrossVarintBoundaries() throws {
        for n in [0, 1, 110, 120, 126, 127, 128, 129, 200, 16_370, 16_380, 16_383, 16_384, 20_000] {
            let value = [Sample2(x: 1, y: String(repeating: "a", count: n)), Sample2(x: 2, y: nil)]
            #expect(try BinaryCoder.decode([Sample2].self, from: BinaryCoder.encode(value)) == value, "\(n)")
        }
    }

    /// Walks encoded bytes by the format's rules and checks that every
    /// container's stated byte length and count match its body; returns the
    /// number of containers seen.
    static func checkLengths(_ bytes: [UInt8]) throws -> Int {
        var at = 0, containers = 0
        func varint() throws -> Int {
            var result = 0, shift = 0
            while true {
                let b = bytes[at]; at += 1
                result |= Int(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }
        func value() throws {
            let tag = bytes[at]; at += 1
            switch tag {
            case 0, 1, 2: break
            case 3: _ = try varint()
            case 4: at += try varint()
            case 5: at += 8
            case 6, 7:
                containers += 1
                let length = try varint()
                let bodyStart = at
                let count = try varint()
                for _ in 0..<count {
                    if tag == 6 { at += try varint() }
                    try value()
                }
                #expect(at - bodyStart == length, "container length")
            default: Issue.record("bad tag \(tag)")
            }
        }
        try value()
        #expect(at == bytes.count)
        return containers
    }

    @Test func containerLengthsAndCountsMatchTheirBodies() throws {
        let value = Sample(name: "Ærlig", count: -42, big: .max, flag: true, ratio: 0.25, optional: "x", missing: nil,
                           list: [1, -2, 3], nested: ["k": [.a, .b], "": []], keyedByEnum: [.a: "1", .b: "2"],
                           tuples: [Sample2(x: -1, y: nil), Sample2(x: 7, y: "z")])
        #expect(try Self.checkLengths(BinaryCoder.encode(value)) == 9)
        // Bodies past the 3 bytes reserved for a length (2 MB) and a count (2,097,152 entries).
        let long = [Sample2(x: 1, y: String(repeating: "é", count: 1_100_000)), Sample2(x: 2, y: "after")]
        let longBytes = try BinaryCoder.encode(long)
        #expect(try Self.checkLengths(longBytes) == 3)
        #expect(try BinaryCoder.decode([Sample2].self, from: longBytes) == long)
        let many = [[Bool]](repeating: [], count: 1) + [[Bool](repeating: true, count: 2_097_153)]
        #expect(try Self.checkLengths(BinaryCoder.encode(many)) == 3)
    }

    /// Nested containers are written in place, so writing into one after a
    /// sibling was opened is refused rather than written out of order.
    @Test func writingIntoAClosedContainerThrows() {
        struct OutOfOrder: Encodable {
            enum K: CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                var a = c.nestedUnkeyedContainer(forKey: .a)
                var b = c.nestedUnkeyedContainer(forKey: .b)
                try b.encode(1)
                try a.encode(2)
            }
        }
        #expect(throws: EncodingError.self) { _ = try BinaryCoder.encode(OutOfOrder()) }
    }

    @Test func damagedBytesAreAnErrorNotACrash() throws {
        let bytes = try BinaryCoder.encode(Sample2(x: 3, y: "hello"))
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { _ = try BinaryCoder.decode(Sample2.self, from: Array(bytes[..<cut])) }
        }
    }
}
