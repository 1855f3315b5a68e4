@testable import EventLog
import JSON
import Testing
@testable import Domain

/// Stored payloads are read straight from their packed bytes; that reader must
/// give exactly what decoding the JSON form gives, and leave every payload it
/// cannot read to that decoding (whose errors name the field).
struct PackedDecodeTests {
    /// The JSON form's answer, as the read models see a stored payload.
    func slow(_ type: String, _ packed: [UInt8]) -> Result<DomainEvent, LogError> {
        Result { () throws(LogError) in
            guard let payload = try? PackedJSON.decode(packed) else { throw PackedPayloadReader.unreadable }
            return try DomainEvent.decode(type: type, payload: payload, canonical: false, sealed: true).event
        }
    }

    func fast(_ type: String, _ packed: [UInt8]) -> DomainEvent? {
        try? packed.withUnsafeBytes { bytes throws(LogError) in try DomainEvent.decode(type: type, schemaVersion: 1, packed: bytes) }
    }

    /// A recorded event with this payload, for ``DomainEvent/decode(_:keys:)``.
    func recorded(_ type: String, _ packed: [UInt8]) -> RecordedEvent {
        RecordedEvent(position: 1, version: 1, stream: "case-000001", type: type, schemaVersion: 1, eventID: .random(),
                      occurredOn: today, recordedAt: Timestamp(microsecondsSinceEpoch: 0), actor: nil,
                      packedPayload: packed, sealed: nil, hash: [])
    }

    /// Every event of a generated municipality, sealed as the log stores it,
    /// reads the packed way (no fallback) to the event its JSON form gives.
    @Test func everyStoredEventReadsTheSameFromItsPackedBytes() throws {
        try withStore { store in
            let items = sampleItems(cases: 150, seed: 11)
            var policy = DomainPolicy(today: today)
            _ = try store.importEvents(items, batchSize: 1000, policy: &policy)
            var types: Set<String> = []
            var sealed = 0
            for event in try store.read(from: 1, limit: items.count) {
                let expected = try slow(event.type, event.packedPayload).get()
                #expect(fast(event.type, event.packedPayload) == expected, "\(event.type) at \(event.position)")
                #expect(try DomainEvent.decode(event) == expected)
                types.insert(event.type)
                if event.sealed != nil { sealed += 1 }
            }
            #expect(types.count >= 28 && sealed > 150)
        }
    }

    /// Payloads the catalogue refuses or reads oddly: the packed reader accepts
    /// none that the JSON form refuses, gives the same event where both read,
    /// and decoding a recorded event always answers as the JSON form does.
    @Test func damagedOrOddPayloadsAnswerAsTheJSONFormDoes() throws {
        let cases: [(String, String)] = [
            ("ApplicationReceived", #"{"personId":"","receivedOn":"2026-01-05","requested":["individualPlan"],"origin":"application","unit":"U"}"#),
            ("ApplicationReceived", #"{"personId":"12345678901","receivedOn":"2026-01-05","requested":["individualPlan"],"origin":"application","unit":"U"}"#),
            ("ApplicationReceived", #"{"personId":"","receivedOn":"2026-01-05","requested":[],"origin":"application","unit":"U"}"#),
            ("ApplicationReceived", #"{"personId":"","receivedOn":"2026-01-05","requested":["coordinator","coordinator"],"origin":"application","unit":"U"}"#),
            ("ApplicationReceived", #"{"personId":"","receivedOn":"2026-01-05","requested":["coordinator"],"origin":"fax","unit":"U"}"#),
            ("PreliminaryReplySent", #"{"sentOn":"2026-02-30","expectedDecisionBy":"2026-03-01"}"#),
            ("PreliminaryReplySent", #"{"sentOn":"2026-1-20","expectedDecisionBy":"2026-03-01"}"#),
            ("PreliminaryReplySent", #"{"sentOn":null,"expectedDecisionBy":"2026-03-01"}"#),
            ("PreliminaryReplySent", #"{"expectedDecisionBy":"2026-03-01"}"#),
            ("PreliminaryReplySent", #"{"sentOn":"2026-01-20","expectedDecisionBy":"2026-03-01","extra":[1,{"a":null}]}"#),
            ("DecisionSent", #"{"sentOn":"2026-02-02","channel":"digital","appealInformationIncluded":"yes"}"#),
            ("AssessmentCompleted", #"{"completedOn":"2026-01-20","longTermNeed":true,"services":["a",""],"residesInMunicipality":true,"wantsIndividualPlan":false}"#),
            ("AssessmentCompleted", #"{"completedOn":"2026-01-20","longTermNeed":true,"services":"a","residesInMunicipality":true,"wantsIndividualPlan":false}"#),
            ("MeetingHeld", #"{"meetingId":"m","heldOn":"2026-03-01","attendees":[],"minutesWritten":true,"actionItems":[7]}"#),
            ("MeetingHeld", #"{"meetingId":"m","heldOn":"2026-03-01","attendees":[],"minutesWritten":true,"actionItems":[{"itemId":"a","description":"","responsible":"","dueOn":"2026-04-01"}]}"#),
            ("PlanEstablished", #"{"establishedOn":"2026-03-05","goals":[],"measures":[{"measureId":"x","description":""}],"nextEvaluationDue":null}"#),
            ("DeviationReported", #"{"deviationId":"d","reportedOn":"2026-04-01","category":"c","description":"\#(String(repeating: "x", count: 4001))"}"#),
            ("DeviationReported", #"{"deviationId":"d","reportedOn":"2026-04-01","category":"c","description":"\#(String(repeating: "x", count: 4000))"}"#),
            ("GoalAdded", #"{"goalId":"g","description":"","horizon":"long","addedOn":"2026-04-01","\u212Aey":1}"#),
            ("NoSuchType", #"{}"#),
        ]
        var bothRead = 0
        for (type, json) in cases {
            let packed = PackedJSON.encode(try JSONParser.parse(json))
            let expected = slow(type, packed)
            let decoded = Result { () throws(LogError) in
                do { return try DomainEvent.decode(recorded(type, packed)) } catch let e as LogError { throw e } catch { throw PackedPayloadReader.unreadable }
            }
            switch expected {
            case .success(let event):
                #expect(decoded == .success(event), "\(json)")
                if let f = fast(type, packed) { #expect(f == event); bothRead += 1 }
            case .failure(let error):
                #expect(fast(type, packed) == nil, "\(json)")
                #expect(decoded == .failure(error), "\(json)")
            }
        }
        #expect(bothRead == 6)
    }

    /// Random damage to packed payloads: the packed reader never reads one
    /// that the JSON form refuses, nor reads one differently; nothing crashes.
    @Test func damagedPackedBytesNeverReadDifferently() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        let seeds = validPayloads.map { ($0.key, PackedJSON.encode(payload($0.key))) }
        var fastReads = 0
        for _ in 0..<30_000 {
            let (type, seed) = seeds[next(seeds.count)]
            var bytes = seed
            for _ in 0...next(3) where !bytes.isEmpty {
                switch next(3) {
                case 0: bytes[next(bytes.count)] = UInt8(truncatingIfNeeded: next(256))
                case 1: bytes.remove(at: next(bytes.count))
                default: bytes.insert(UInt8(truncatingIfNeeded: next(8)), at: next(bytes.count))
                }
            }
            guard let f = fast(type, bytes) else { continue }
            fastReads += 1
            #expect(slow(type, bytes) == .success(f))
        }
        #expect(fastReads > 500)
    }

    @Test func packedValuesAreFoundWithoutDecodingTheWhole() throws {
        let packed = PackedJSON.encode(try JSONParser.parse(#"{"b":[true,null,"x"],"a":{"c":"2026-01-05"},"d":false}"#))
        try packed.withUnsafeBytes { bytes in
            let value = try #require(PackedValue.whole(bytes)?.object)
            #expect(value.namesAreASCII && value.count == 3)
            #expect(value.member("d")?.bool == false)
            #expect(value.member("a")?.object?.member("c")?.string == "2026-01-05")
            #expect(value.member("b")?.items?.map(\.isNull) == [false, true, false])
            #expect(value.member("b")?.items?.last?.string == "x")
            #expect(value.member("e") == nil && value.member("b")?.string == nil && value.member("b")?.object == nil)
            // Not one value: cut short, or followed by more bytes.
            #expect(PackedValue.whole(UnsafeRawBufferPointer(rebasing: bytes.dropLast())) == nil)
        }
        let twice = packed + packed
        twice.withUnsafeBytes { #expect(PackedValue.whole($0) == nil) }
        let kelvin = PackedJSON.encode(try JSONParser.parse(#"{"a":1,"\u212Aey":2}"#))
        kelvin.withUnsafeBytes { #expect(PackedValue.whole($0)?.object?.namesAreASCII == false) }
    }

    /// A stored schema version the type does not have does not read the
    /// packed way either (its kind is known there; the check is its own).
    @Test func theStoredSchemaVersionIsCheckedWhenReadFromPackedBytes() {
        func reads(_ type: String, _ version: UInt16) -> Bool {
            let packed = PackedJSON.encode(payload(type))
            return (try? packed.withUnsafeBytes { bytes throws(LogError) in
                try DomainEvent.decode(type: type, schemaVersion: version, packed: bytes)
            }) != nil
        }
        #expect(reads("PlanClosed", 1) && !reads("PlanClosed", 2) && !reads("PlanClosed", 0))
        #expect(reads("AppealDecided", 1) && reads("AppealDecided", 2) && !reads("AppealDecided", 3))
    }

    /// An array's objects are each walked once, each read from where the one
    /// before ended; an item that is not an object stops the visit.
    @Test func theObjectsOfAnArrayAreVisitedInOrder() throws {
        let packed = PackedJSON.encode(try JSONParser.parse(#"[{"a":"1","b":[{"a":"x"},[2]]},{"a":"2"},{}]"#))
        try packed.withUnsafeBytes { bytes in
            let array = try #require(PackedValue.whole(bytes))
            var seen: [String?] = []
            #expect(array.forEachObject { seen.append($0.member("a")?.string) })
            #expect(seen == ["1", "2", nil])
            #expect(array.forEachObject { _ in } == array.forEachItem { _ in })
        }
        let mixed = PackedJSON.encode(try JSONParser.parse(#"[{"a":"1"},7,{"a":"3"}]"#))
        mixed.withUnsafeBytes { bytes in
            var seen = 0
            #expect(PackedValue.whole(bytes)?.forEachObject { _ in seen += 1 } == false)
            #expect(seen == 1)
        }
        let object = PackedJSON.encode(try JSONParser.parse(#"{"a":"1"}"#))
        object.withUnsafeBytes { #expect(PackedValue.whole($0)?.forEachObject { _ in } == false) }
    }

    /// An object remembers where its first 16 members begin; the rest are
    /// found by walking on. Every member is found, from any hint, in any
    /// order, with its whole value and nothing after it.
    @Test func everyMemberIsFoundPastTheRememberedOnes() throws {
        let n = PackedObject.remembered + 5
        let members = (0..<n).map { i in "\"m\(i)\":" + (i % 3 == 0 ? "[\"n\(i)\",{\"x\":\"\(i)\"}]" : "\"v\(i)\"") }
        let packed = PackedJSON.encode(try JSONParser.parse("{" + members.joined(separator: ",") + "}"))
        try packed.withUnsafeBytes { bytes in
            let object = try #require(PackedValue.whole(bytes)?.object)
            #expect(object.count == n)
            for start in [0, 3, PackedObject.remembered - 1, PackedObject.remembered, n - 1, n + 7] {
                for i in (0..<n).reversed() + Array(0..<n) {
                    var hint = start
                    let value = try #require(object.member("m\(i)", hint: &hint))
                    if i % 3 == 0 {
                        #expect(value.items?.first?.string == "n\(i)")
                        #expect(value.items?.last?.object?.member("x")?.string == "\(i)" && value.itemCount == 2)
                    } else {
                        #expect(value.string == "v\(i)")
                    }
                    var again = hint - 1  // the member's own place: found at the first look, the hint the same
                    #expect(object.member("m\(i)", hint: &again)?.stringBytes?.count == value.stringBytes?.count && again == hint)
                }
            }
            var hint = 0
            #expect(object.member("m\(n)", hint: &hint) == nil && hint == 0)
        }
    }
}
