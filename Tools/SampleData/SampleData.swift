import Crypto
import EventLog
import JSON

/// Realistic synthetic case histories for the demo, the tests and the benchmark:
/// JSON Lines in the contract's envelope, deterministic for the same options.
///
/// Every stream obeys the append rules of docs/RULES.md at every prefix of the output, so
/// `iplog import` accepts every line. The life of a case follows the reference
/// workload (shared/bench): application, sometimes a preliminary reply,
/// assessment, consent, decision and letter, sometimes an appeal, then a
/// coordinator, a responsibility group meeting every five weeks or so, the plan,
/// its evaluations, and for some a closure. Late decisions, missing replies,
/// untrained coordinators, late minutes and the like are there on purpose, for
/// the deviation report.
public struct SampleData {
    public struct Options: Sendable {
        public var cases = 1000
        /// Default: cases / 25, at least 1.
        public var coordinators: Int?
        public var start = BusinessDate(iso: "2024-01-01")!
        /// Default: start + 730 days.
        public var end: BusinessDate?
        public var seed = 1

        public init(cases: Int = 1000, coordinators: Int? = nil, start: BusinessDate = BusinessDate(iso: "2024-01-01")!,
                    end: BusinessDate? = nil, seed: Int = 1) {
            self.cases = cases
            self.coordinators = coordinators
            self.start = start
            self.end = end
            self.seed = seed
        }
    }

    /// Writes every line (without its newline) to `emit`, in business-date order.
    public static func generate(_ options: Options, _ emit: (JSONValue) throws -> Void) rethrows {
        let start = Int(options.start.daysSinceEpoch)
        let end = Int((options.end ?? options.start.adding(days: 730)).daysSinceEpoch)
        let coordinatorCount = options.coordinators ?? max(1, options.cases / 25)
        var rng = SeededRandom(seed: "\(options.seed)/coordinators")
        let width = max(4, String(coordinatorCount).count)
        let coordinators = (1...coordinatorCount).map { Coordinator(&rng, $0, width, start, end) }
        var byUnit: [String: [Coordinator]] = [:]
        for unit in Vocabulary.units {
            let inUnit = coordinators.filter { $0.unit == unit }
            byUnit[unit] = inUnit.isEmpty ? coordinators : inUnit
        }
        let namespace = "iplog-sample/\(options.seed)/\(options.start)/\(end)/\(options.cases)/\(coordinatorCount)"
        var days: [Int: [JSONValue]] = [:]

        func write(_ stream: String, _ events: [Emitted]) {
            for (index, e) in events.enumerated() where e.day <= end {
                let digest = Array(SHA256.hash(data: Array("\(namespace)/\(stream)/\(index + 1)".utf8)))
                var bytes = Array(digest[0..<16])
                bytes[6] = bytes[6] & 0x0F | 0x40
                bytes[8] = bytes[8] & 0x3F | 0x80
                days[e.day, default: []].append(.object([
                    "stream": .string(stream), "type": .string(e.type),
                    "eventId": .string(EventID(bytes: bytes)!.description),
                    "occurredOn": .string(iso(e.day)), "actor": .string(e.actor),
                    "data": e.data,
                ]))
            }
        }

        for c in coordinators { write(c.stream, c.events()) }
        let caseWidth = max(6, String(options.cases).count)
        var usedPersonIDs = Set<String>()
        for i in 1...max(1, options.cases) where options.cases > 0 {
            var caseRNG = SeededRandom(seed: "\(options.seed)/case/\(i)")
            let opened = caseRNG.chance(0.3) ? caseRNG.int(start, min(start + 90, end)) : caseRNG.int(start, end)
            var simulation = CaseSimulation(rng: caseRNG, coordinators: coordinators, byUnit: byUnit, end: end)
            if let sent = simulation.intake(opened, usedPersonIDs: &usedPersonIDs) {
                simulation.active(sent)
            }
            write("case-" + pad(i, caseWidth), simulation.out)
        }
        for day in days.keys.sorted() {
            for line in days[day]! { try emit(line) }
        }
    }
}

/// A day number (days since 1970-01-01) as ISO text.
func iso(_ day: Int) -> String { BusinessDate(daysSinceEpoch: Int32(day)).description }

func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

struct Emitted {
    var day: Int
    var type: String
    var data: JSONValue
    var actor: String
}

final class Coordinator {
    let id: String
    let stream: String
    let unit: String
    let registered: Int
    let trained: Int?
    let deactivated: Int?
    let profession: String
    let name: String

    init(_ rng: inout SeededRandom, _ n: Int, _ width: Int, _ start: Int, _ end: Int) {
        id = pad(n, width)
        stream = "coordinator-" + id
        unit = rng.pick(Vocabulary.units)
        registered = start - rng.int(30, 720)
        let r = rng.unit()
        if r < 0.85 {
            trained = rng.int(registered + 7, start - 1)
        } else if r < 0.92 {
            trained = start + rng.int(0, 180)
        } else {
            trained = nil
        }
        let leaves = rng.chance(0.04) && end > start + 120
        deactivated = leaves ? rng.int(start + 90, end) : nil
        profession = rng.pick(Vocabulary.professions)
        name = rng.pick(Vocabulary.firstNames) + " " + rng.pick(Vocabulary.lastNames)
    }

    func events() -> [Emitted] {
        var out = [Emitted(day: registered, type: "CoordinatorRegistered", data: .object([
            "coordinatorId": .string(id), "name": .string(name), "unit": .string(unit),
            "profession": .string(profession), "registeredOn": .string(iso(registered)),
        ]), actor: "coordinating-unit")]
        if let trained, deactivated.map({ trained <= $0 }) ?? true {
            out.append(Emitted(day: trained, type: "CoordinatorTrained", data: .object([
                "trainedOn": .string(iso(trained)),
                "course": .string(Vocabulary.courses[(Int(id) ?? 0) % Vocabulary.courses.count]),
            ]), actor: "coordinating-unit"))
        }
        if let deactivated {
            out.append(Emitted(day: deactivated, type: "CoordinatorDeactivated", data: .object([
                "deactivatedOn": .string(iso(deactivated)),
            ]), actor: "coordinating-unit"))
        }
        return out.sorted { $0.day < $1.day }
    }

    func available(on day: Int) -> Bool { deactivated.map { $0 > day + 30 } ?? true }
}

/// A valid fødselsnummer (or D-nummer: day + 40) for a birth date, both mod-11
/// check digits right, with the century rule of docs/RULES.md (rule 11).
func makePersonID(_ rng: inout SeededRandom, born: BusinessDate, dNumber: Bool, used: inout Set<String>) -> String {
    let (year, month, day) = born.parts
    let (low, high) = year >= 2000 ? (500, 999) : (0, 499)
    while true {
        let text = pad(day + (dNumber ? 40 : 0), 2) + pad(month, 2) + pad(year % 100, 2) + pad(rng.int(low, high), 3)
        guard let id = withCheckDigits(text) else { continue }
        if used.insert(id).inserted { return id }  // one person, one case (rule 2)
    }
}

/// The nine digits with their two mod-11 check digits, or nil when no check digit fits.
func withCheckDigits(_ text: String) -> String? {
    let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2], w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    let digits = text.map { Int(String($0))! }
    let k1 = (11 - zip(w1, digits).map(*).reduce(0, +) % 11) % 11
    if k1 == 10 { return nil }
    let k2 = (11 - zip(w2, digits + [k1]).map(*).reduce(0, +) % 11) % 11
    if k2 == 10 { return nil }
    return text + String(k1) + String(k2)
}

/// The `n`-th valid fødselsnummer of people born on 1 January from 1950 on
/// (about 45,000 of them): distinct persons for tests and benchmarks.
public func syntheticPersonID(_ n: Int) -> String {
    var found = -1
    for year in 50..<100 {
        for individual in 0..<500 {
            guard let id = withCheckDigits("0101" + String(year) + pad(individual, 3)) else { continue }
            found += 1
            if found == n { return id }
        }
    }
    preconditionFailure("no synthetic person id \(n)")
}

/// The same date `years` later; 29 February becomes 28 February.
func addYears(_ day: Int, _ years: Int) -> Int {
    let (y, m, d) = BusinessDate(daysSinceEpoch: Int32(day)).parts
    let date = BusinessDate(year: y + years, month: m, day: d) ?? BusinessDate(year: y + years, month: m, day: 28)!
    return Int(date.daysSinceEpoch)
}
