import EventLog
import Testing
@testable import Domain

/// Builds a number with correct check digits (nil when the first check digit
/// would be 10, which no valid number has).
func personID(_ first9: String) -> String? {
    let d = first9.map { Int(String($0))! }
    let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2], w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    let k1 = (11 - zip(w1, d).map(*).reduce(0, +) % 11) % 11
    guard k1 < 10 else { return nil }
    let k2 = (11 - zip(w2, d + [k1]).map(*).reduce(0, +) % 11) % 11
    guard k2 < 10 else { return nil }
    return first9 + String(k1) + String(k2)
}

/// The first individual number from `start` that gives valid check digits.
func validID(_ ddmmyy: String, individualFrom start: Int) -> String {
    for n in start..<(start + 100) {
        let i = String(n)
        if let id = personID(ddmmyy + String(repeating: "0", count: 3 - i.count) + i) { return id }
    }
    fatalError("no valid number")
}

struct PersonIDTests {
    @Test(arguments: [
        ("140385", 0, "1985-03-14"),    // 000–499 → 1900s
        ("140385", 400, "1985-03-14"),
        ("140385", 500, "1885-03-14"),  // 500–749 with YY ≥ 54 → 1800s
        ("010110", 500, "2010-01-01"),  // 500–999 with YY ≤ 39 → 2000s
        ("010139", 900, "2039-01-01"),
        ("010160", 900, "1960-01-01"),  // 900–999 with YY ≥ 40 → 1900s
        ("010160", 750, nil),           // 750–899 with YY ≥ 40: invalid
        ("010145", 600, nil),           // 500–749 with YY 40–53: invalid
        ("290200", 500, "2000-02-29"),  // a leap day
        ("290201", 500, nil),           // 2001 had no 29 February
        ("540385", 0, "1985-03-14"),    // D-nummer: day + 40
        ("310485", 0, nil),             // 31 April does not exist
        ("011385", 0, nil),             // month 13
    ])
    func readsTheBirthDateAndCentury(ddmmyy: String, individual: Int, expected: String?) {
        let id = validID(ddmmyy, individualFrom: individual)
        let parsed = PersonID(id)
        #expect(parsed?.birthDate.description == expected, "\(id)")
    }

    @Test func refusesWrongCheckDigitsAndMalformedText() {
        let id = validID("140385", individualFrom: 100)
        #expect(PersonID(id) != nil)
        var digits = Array(id)
        digits[10] = digits[10] == "9" ? "0" : Character(String(Int(String(digits[10]))! + 1))
        #expect(PersonID(String(digits)) == nil)
        digits = Array(id)
        digits[9] = digits[9] == "9" ? "0" : Character(String(Int(String(digits[9]))! + 1))
        #expect(PersonID(String(digits)) == nil)
        for text in ["", "1403851234", "140385123456", "1403851234a", " 14038512345"] {
            #expect(PersonID(text) == nil)
        }
    }

    @Test func aRemainderOfOneMakesTheNumberInvalid() {
        // Find a nine-digit prefix whose first control sum leaves remainder 1.
        let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
        for n in 0..<1000 {
            let i = String(n)
            let prefix = "140385" + String(repeating: "0", count: 3 - i.count) + i
            let sum = zip(w1, prefix.map { Int(String($0))! }).map(*).reduce(0, +)
            if sum % 11 == 1 {
                for k1 in 0...9 { for k2 in 0...9 { #expect(PersonID(prefix + "\(k1)\(k2)") == nil) } }
                return
            }
        }
        Issue.record("no prefix with remainder 1 found")
    }

    @Test func masksAllButTheBirthDate() {
        let id = validID("140385", individualFrom: 0)
        #expect(PersonID(id)!.masked == "140385*****")
        #expect(PersonID.mask(id) == "140385*****")
        #expect(PersonID(validID("540385", individualFrom: 0))!.isDNumber)
    }

    @Test func computesAgeOnADate() {
        let id = PersonID(validID("140308", individualFrom: 500))!  // born 2008-03-14
        #expect(id.age(on: BusinessDate(iso: "2026-03-13")!) == 17)
        #expect(id.age(on: BusinessDate(iso: "2026-03-14")!) == 18)
    }
}
