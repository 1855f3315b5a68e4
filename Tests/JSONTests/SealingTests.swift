import Testing
@testable import JSON

struct SealingTests {
    let spec: SealedFields = .members(["note": .all, "items": .members(["who": .all]), "names": .all])
    var value: JSONValue {
        get throws {
            try JSONParser.parse(#"{"id":"x-1","note":"Kari sa nei","items":[{"who":"Ola","due":"2026-01-01"},{"who":"Per","due":"2026-02-01"}],"names":["A","B"],"kept":"synlig"}"#)
        }
    }

    @Test func sealedStringsLeaveThePackedFormAndComeBackInPlace() throws {
        let (packed, sealed) = PackedJSON.encode(try value, sealing: spec)
        // In the packed form's (sorted) order: items[0].who, items[1].who, names, note.
        #expect(sealed == ["Ola", "Per", "A", "B", "Kari sa nei"])
        let text = String(decoding: packed, as: UTF8.self)
        for s in sealed { #expect(!text.contains(s)) }
        #expect(text.contains("synlig") && text.contains("2026-02-01"))
        let clear = try PackedJSON.decode(packed)
        #expect(clear["note"] == .string("") && clear["kept"] == .string("synlig"))
        let opened = try PackedJSON.decode(packed, unsealing: sealed)
        #expect(PackedJSON.encode(opened) == PackedJSON.encode(try value))
    }

    @Test func anErasedKeyReadsAsErasedAndTheRestStays() throws {
        let (packed, _) = PackedJSON.encode(try value, sealing: spec)
        let erased = try PackedJSON.decode(packed, unsealing: nil)
        #expect(erased["note"] == .string("[erased]") && erased["names"] == .array([.string("[erased]"), .string("[erased]")]))
        #expect(erased["items"]?.arrayValue?.first?["due"] == .string("2026-01-01") && erased["id"] == .string("x-1"))
    }

    @Test func anEmptyStringIsSealedTooSoEveryEmptyStringIsASealedOne() throws {
        let v: JSONValue = .object([.init("a", .string("")), .init("b", .string("keep")), .init("c", .string("secret"))])
        let (packed, sealed) = PackedJSON.encode(v, sealing: .members(["c": .all]))
        #expect(sealed == ["", "secret"])
        #expect(try PackedJSON.decode(packed, unsealing: sealed) == v)
    }

    @Test func theWrongNumberOfValuesIsRefused() throws {
        let (packed, sealed) = PackedJSON.encode(try value, sealing: spec)
        #expect(throws: PackedJSONError.self) { try PackedJSON.decode(packed, unsealing: Array(sealed.dropLast())) }
        #expect(throws: PackedJSONError.self) { try PackedJSON.decode(packed, unsealing: sealed + ["extra"]) }
    }

    @Test func hasSealedValuesFollowsTheSpec() throws {
        #expect(PackedJSON.hasSealedValues(try value, spec))
        let none = try JSONParser.parse(#"{"id":"x","items":[],"names":[]}"#)
        #expect(!PackedJSON.hasSealedValues(none, spec))
        #expect(PackedJSON.hasSealedValues(try JSONParser.parse(#"{"items":[{"who":"Ola"}]}"#), spec))
    }
}
