/// A calendar date without a time (ISO `YYYY-MM-DD`), as a count of days since
/// 1970-01-01 in the proleptic Gregorian calendar.
///
/// Business dates (`occurredOn`, `heldOn`, deadlines) are this type; arithmetic
/// follows docs/RULES.md exactly: a month is a calendar month, clamped at the month's
/// end (31 January plus one month is 28 or 29 February).
public struct BusinessDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int32

    public init(daysSinceEpoch: Int32) { self.daysSinceEpoch = daysSinceEpoch }

    /// The date with these parts, or nil when it does not exist (2026-02-30).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...BusinessDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.daysSinceEpoch = Int32(BusinessDate.days(year: year, month: month, day: day))
    }

    /// Parses exactly `YYYY-MM-DD`; nil when malformed or when the date does not exist.
    public init?(iso text: some StringProtocol) {
        self.init(iso: String(text))
    }

    /// Parses exactly `YYYY-MM-DD` (not generic, so it is not reached through
    /// witness tables from other modules: dates are parsed for every event read).
    public init?(iso text: String) {
        var text = text
        guard let date = text.withUTF8({ BusinessDate(isoBytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = date
    }

    /// Parses exactly `YYYY-MM-DD` from UTF-8 bytes (a stored payload's, read in place).
    public init?(isoBytes text: UnsafeRawBufferPointer) {
        guard text.count == 10 else { return nil }
        var y = 0, m = 0, d = 0
        for (count, c) in text.enumerated() {
            if count == 4 || count == 7 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard c >= 0x30, c <= 0x39 else { return nil }
            let digit = Int(c &- 0x30)
            if count < 4 { y = y * 10 + digit } else if count < 7 { m = m * 10 + digit } else { d = d * 10 + digit }
        }
        self.init(year: y, month: m, day: d)
    }

    public static func < (a: BusinessDate, b: BusinessDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    /// Year, month (1–12) and day (1–31).
    public var parts: (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil_from_days.
        let z = Int(daysSinceEpoch) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = parts
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    public func adding(days: Int) -> BusinessDate {
        BusinessDate(daysSinceEpoch: daysSinceEpoch + Int32(days))
    }

    /// Calendar months later (or earlier, when negative), clamped to the month's last day.
    public func adding(months: Int) -> BusinessDate {
        let (y, m, d) = parts
        let total = y * 12 + (m - 1) + months
        let year = total / 12, month = total % 12 + 1
        let day = min(d, BusinessDate.daysIn(month: month, year: year))
        return BusinessDate(daysSinceEpoch: Int32(BusinessDate.days(year: year, month: month, day: day)))
    }

    public func adding(weeks: Int) -> BusinessDate { adding(days: 7 * weeks) }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(until other: BusinessDate) -> Int { Int(other.daysSinceEpoch - daysSinceEpoch) }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days_from_civil.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// A UTC instant in microseconds since 1970-01-01T00:00:00Z (the log's `recordedAt`).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    /// Reads what ``description`` writes (`2026-03-14T09:05:01.123456Z`; the
    /// fraction may have 0 to 6 digits); nil for anything else.
    public init?(iso text: String) {
        let u = Array(text.utf8)
        guard u.count >= 20, u.last == UInt8(ascii: "Z"), u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              let date = BusinessDate(iso: text.prefix(10)) else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            guard !range.isEmpty, range.allSatisfy({ (0x30...0x39).contains(u[$0]) }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int64(u[$1] - 0x30) }
        }
        guard let h = number(11..<13), let m = number(14..<16), let s = number(17..<19), h < 24, m < 60, s < 60 else { return nil }
        var micros: Int64 = 0
        if u.count > 20 {
            guard u[19] == UInt8(ascii: "."), u.count - 21 <= 6, let fraction = number(20..<(u.count - 1)) else { return nil }
            micros = fraction
            for _ in 0..<(6 - (u.count - 21)) { micros *= 10 }
        } else if u[19] != UInt8(ascii: "Z") { return nil }
        self.init(microsecondsSinceEpoch: Int64(date.daysSinceEpoch) * 86_400_000_000 + ((h * 60 + m) * 60 + s) * 1_000_000 + micros)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microsecondsSinceEpoch < b.microsecondsSinceEpoch }

    /// The UTC date of this instant.
    public var date: BusinessDate {
        let days = microsecondsSinceEpoch >= 0
            ? microsecondsSinceEpoch / 86_400_000_000
            : (microsecondsSinceEpoch - 86_399_999_999) / 86_400_000_000
        return BusinessDate(daysSinceEpoch: Int32(days))
    }

    /// ISO 8601 in UTC with microseconds: `2026-03-14T09:05:01.123456Z`.
    public var description: String {
        let dayMicros = Int64(date.daysSinceEpoch) * 86_400_000_000
        let rest = microsecondsSinceEpoch - dayMicros
        let seconds = rest / 1_000_000, micros = rest % 1_000_000
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(date)T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(micros, 6))Z"
    }
}
