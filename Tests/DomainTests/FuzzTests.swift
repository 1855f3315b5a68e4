import EventLog
import JSON
import Testing
@testable import Domain

/// Random damage to valid lines, through the whole input path (parse, envelope,
/// catalogue): every outcome is an event or a clean error — never a crash, and
/// never an error that echoes the person id.
struct FuzzTests {
    static let seeds: [String] = validPayloads.map { type, payload in
        let stream = DomainEvent.coordinatorTypes.contains(type) ? "coordinator-0001" : "case-000001"
        return #"{"stream":"\#(stream)","type":"\#(type)","data":\#(payload)}"#
    }

    func check(_ bytes: [UInt8], seed: UInt64) {
        do {
            _ = try Catalogue.validate(try Envelope.decode(try JSONParser.parse(bytes), today: today, dateField: DomainEvent.dateField))
        } catch let error as LogError {
            #expect(["invalidShape", "invalidDate", "invalidPersonId"].contains(error.code.rawValue), "IPLOG_FUZZ_SEED=\(seed)")
            #expect(!error.message.contains(validID("140385", individualFrom: 0)), "IPLOG_FUZZ_SEED=\(seed)")
        } catch is JSONSyntaxError {
        } catch {
            Issue.record("unexpected error type \(type(of: error)); replay with IPLOG_FUZZ_SEED=\(seed)")
        }
    }

    /// The run's seed: `IPLOG_FUZZ_SEED` replays a failure; without it a fresh
    /// one is drawn, and every recorded issue names it.
    static func seed() -> UInt64 {
        if let given = ProcessEnvironment.value("IPLOG_FUZZ_SEED"), let seed = UInt64(given) { return seed }
        var rng = SystemRandomNumberGenerator()
        return UInt64.random(in: 1...UInt64.max, using: &rng)
    }

    /// (The seed is printed first; `IPLOG_FUZZ_SEED=<it> swift test --filter randomDamageNeverCrashes` replays the run.)
    @Test func randomDamageNeverCrashes() {
        let seed = Self.seed()
        print("FuzzTests.randomDamageNeverCrashes: IPLOG_FUZZ_SEED=\(seed)")
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        let alphabet = Array(#"{}[]":,\0123456789-.etruefalsnul abc\u00e6😀"#.utf8) + [0, 0x80, 0xFF, 0xC3]
        for _ in 0..<20_000 {
            var bytes = Array(Self.seeds[next(Self.seeds.count)].utf8)
            for _ in 0...next(4) {
                guard !bytes.isEmpty else { break }
                switch next(5) {
                case 0: bytes[next(bytes.count)] = alphabet[next(alphabet.count)]          // replace a byte
                case 1: bytes.insert(alphabet[next(alphabet.count)], at: next(bytes.count))  // insert a byte
                case 2: bytes.remove(at: next(bytes.count))                                 // delete a byte
                case 3: bytes = Array(bytes[..<next(bytes.count)])                          // cut the line
                default:                                                                    // duplicate a slice
                    let a = next(bytes.count), b = min(bytes.count, a + next(20))
                    bytes.insert(contentsOf: bytes[a..<b], at: next(bytes.count))
                }
            }
            check(bytes, seed: seed)
        }
    }

    @Test func typeConfusionInEveryFieldIsRefusedNamingIt() throws {
        for (type, payload) in validPayloads {
            guard case .object(let members) = try JSONParser.parse(payload) else { continue }
            for member in members {
                for wrong: JSONValue in [.null, .number("1e999"), .number("-0"), .bool(true), .array([]), .object([]), .string(""), .string("2026-02-30")] {
                    let changed = JSONValue.object(members.map { $0.key == member.key ? .init($0.key, wrong) : $0 })
                    do {
                        _ = try DomainEvent.decode(type: type, payload: changed)
                        // No field of the catalogue is an object: that one must always be refused.
                        #expect(wrong != .object([]), "\(type).\(member.key) accepted an object")
                    } catch {
                        #expect(error.message.contains("data.\(member.key)"), "\(type).\(member.key) = \(wrong.jsonText): \(error.message)")
                    }
                }
            }
        }
    }
}
