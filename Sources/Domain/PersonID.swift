import EventLog

/// A Norwegian person id: a fødselsnummer or a D-nummer (docs/RULES.md, rule 11).
///
/// Eleven digits: the birth date as DDMMYY (a D-nummer adds 4 to the first
/// digit), a three-digit individual number that gives the century, and two
/// mod-11 check digits.
public struct PersonID: Hashable, Sendable, CustomStringConvertible {
    /// The eleven digits.
    public let digits: String
    /// The birth date the number encodes.
    public let birthDate: BusinessDate
    /// True for a D-nummer (for people without a fødselsnummer).
    public let isDNumber: Bool

    /// Validates `text`; nil when it is not a valid fødselsnummer or D-nummer.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 11, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let d = u.map { Int($0 - 0x30) }
        let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2], w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
        func control(_ weights: [Int], _ count: Int) -> Int? {
            let r = zip(weights, d[0..<count]).map(*).reduce(0, +) % 11
            if r == 1 { return nil }  // 11 − 1 = 10 is no digit: the number is invalid
            return r == 0 ? 0 : 11 - r
        }
        guard let k1 = control(w1, 9), k1 == d[9], let k2 = control(w2, 10), k2 == d[10] else { return nil }
        var day = d[0] * 10 + d[1]
        let dNumber = day > 40
        if dNumber { day -= 40 }
        let month = d[2] * 10 + d[3], yy = d[4] * 10 + d[5]
        let individual = d[6] * 100 + d[7] * 10 + d[8]
        let century: Int
        switch individual {
        case 0...499: century = 1900
        case 500...749 where yy >= 54: century = 1800
        case 500...999 where yy <= 39: century = 2000
        case 900...999 where yy >= 40: century = 1900
        default: return nil
        }
        guard let born = BusinessDate(year: century + yy, month: month, day: day) else { return nil }
        digits = text
        birthDate = born
        isDNumber = dNumber
    }

    /// Only the birth date shows: `140385*****`.
    public var masked: String { String(digits.prefix(6)) + "*****" }

    /// The full number (shown only when asked for).
    public var description: String { digits }

    /// The person's age in whole years on `date`.
    public func age(on date: BusinessDate) -> Int {
        let (by, bm, bd) = birthDate.parts, (y, m, d) = date.parts
        return y - by - ((m, d) < (bm, bd) ? 1 : 0)
    }

    /// Masks a person id for people to read; text that is not one is returned as is.
    public static func mask(_ text: String) -> String {
        PersonID(text)?.masked ?? text
    }
}
