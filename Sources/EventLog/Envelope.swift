import Foundation
import JSON

/// Reading the contract's event envelope (one JSON Lines record) into a
/// ``ProposedEvent``, and writing a ``RecordedEvent`` back out as one.
public enum Envelope {
    /// A shape error: the field it concerns and what was wrong, free of the
    /// field's value (which may be personal data).
    public static func shapeError(_ field: String, _ message: String) -> LogError {
        LogError(.invalidShape, "field \(field): \(message)")
    }

    /// Decodes one envelope.
    ///
    /// - Parameters:
    ///   - dateField: the payload field that holds the event's own date for a
    ///     type, used when `occurredOn` is missing; by default the first top-level
    ///     payload field whose name ends in `On`.
    ///   - today: the date used when neither `occurredOn` nor a date field is there.
    /// - Throws: ``LogError`` `.invalidShape` or `.invalidDate`, naming the field.
    /// The envelope's fields, and the four that `export` adds (read and ignored,
    /// so that an export imports again).
    public static let knownFields = ["stream", "type", "schemaVersion", "eventId", "occurredOn", "actor", "data", "expectedVersion",
                                     "position", "version", "recordedAt", "hash"]

    /// `[invalidShape]` for a field that is not one of `known`, naming it by its
    /// path (`path` + the field) and the known field it is closest to, if any.
    public static func unknownField(_ field: String, at path: String, among known: some Sequence<String>) -> LogError {
        let name = path.isEmpty ? field : path + "." + field
        let hint = closest(to: field, among: known).map { " (did you mean `\($0)`?)" } ?? ""
        return shapeError(name, "not a field of the catalogue\(hint)")
    }

    /// The name in `candidates` nearest to `name` (edit distance, ignoring case)
    /// among those near enough to be a misspelling of it.
    public static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let a = Array(name.lowercased().unicodeScalars)
        var best: (String, Int)?
        for candidate in candidates {
            let b = Array(candidate.lowercased().unicodeScalars)
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            let distance = a.isEmpty ? b.count : row[b.count]
            // Near enough: a few edits for its length, or the same stem (dueDate, dueOn).
            let stem = zip(a, b).prefix { $0 == $1 }.count
            guard distance <= max(2, min(a.count, b.count) / 4) || stem >= max(3, (min(a.count, b.count) + 1) / 2) else { continue }
            if distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// - Parameter catalogueChecksDates: the payload's own date, when it does not
    ///   read, gives way to today instead of refusing the line: the catalogue that
    ///   checks the payload next names that field with every other wrong one.
    public static func decode(
        _ value: JSONValue, today: BusinessDate,
        dateField: (String) -> String? = { _ in nil }, catalogueChecksDates: Bool = false
    ) throws(LogError) -> ProposedEvent {
        guard case .object(let fields) = value else { throw shapeError("(line)", "a JSON object expected, found \(value.kindName)") }
        // A field the envelope does not know is refused, never dropped: a misspelt
        // eventID would leave the event without its id and an import run twice
        // would write it twice.
        for field in fields where !knownFields.contains(field.key) {
            throw unknownField(field.key, at: "", among: knownFields)
        }
        let stream = try requiredString(value, "stream")
        let type = try requiredString(value, "type")
        guard let data = value["data"] else { throw shapeError("data", "missing") }
        guard case .object(let members) = data else { throw shapeError("data", "a JSON object expected, found \(data.kindName)") }

        let eventID: EventID
        if let raw = value["eventId"], raw != .null {
            guard let text = raw.stringValue, let id = EventID(string: text) else {
                throw shapeError("eventId", "a UUID expected")
            }
            eventID = id
        } else {
            eventID = .random()
        }
        var actor: String?
        if let raw = value["actor"], raw != .null {
            guard let text = raw.stringValue else { throw shapeError("actor", "a string expected, found \(raw.kindName)") }
            actor = text
        }
        // The payload's schema version (an export names it past 1); the catalogue
        // checks it against the type's and reads an older one's names.
        var schemaVersion: UInt16 = 1
        if let raw = value["schemaVersion"], raw != .null {
            guard let n = raw.int64Value, n >= 1, n <= Int64(UInt16.max) else { throw shapeError("schemaVersion", "a whole number from 1 expected") }
            schemaVersion = UInt16(n)
        }
        var expected = ExpectedVersion.any
        if let raw = value["expectedVersion"], raw != .null {
            expected = try parseExpectedVersion(raw)
        }
        let occurredOn: BusinessDate
        if let raw = value["occurredOn"], raw != .null {
            occurredOn = try date(raw, field: "occurredOn")
        } else if let field = dateField(type) ?? members.first(where: { $0.key.hasSuffix("On") })?.key,
                  let raw = data[field], !catalogueChecksDates || (try? date(raw, field: field)) != nil {
            occurredOn = try date(raw, field: "data.\(field)")
        } else {
            occurredOn = today
        }
        let event = ProposedEvent(stream: stream, type: type, schemaVersion: schemaVersion, eventID: eventID, occurredOn: occurredOn,
                                  actor: actor, payload: data, expectedVersion: expected)
        if let problem = EventStore.envelopeProblem(event) { throw problem }
        return event
    }

    /// `expectedVersion`: a number, `"noStream"` or `"any"`.
    public static func parseExpectedVersion(_ raw: JSONValue) throws(LogError) -> ExpectedVersion {
        if let n = raw.int64Value, n >= 0 { return .exactly(UInt64(n)) }
        if let text = raw.stringValue { if let v = parseExpectedVersion(text) { return v } }
        throw shapeError("expectedVersion", "a version number, \"noStream\" or \"any\" expected")
    }

    /// `expectedVersion` as typed on a command line.
    public static func parseExpectedVersion(_ text: String) -> ExpectedVersion? {
        switch text {
        case "any": .any
        case "noStream": .noStream
        default: UInt64(text).map { .exactly($0) }
        }
    }

    /// A required ISO date: `invalidShape` when it is not a `YYYY-MM-DD` string,
    /// `invalidDate` when it is one but the day does not exist.
    public static func date(_ raw: JSONValue, field: String) throws(LogError) -> BusinessDate {
        guard let text = raw.stringValue else { throw shapeError(field, "a date (YYYY-MM-DD) expected, found \(raw.kindName)") }
        return try date(text, field: field)
    }

    /// Parses `YYYY-MM-DD`, telling a malformed date from one that does not exist.
    public static func date(_ text: String, field: String) throws(LogError) -> BusinessDate {
        if let d = BusinessDate(iso: text) { return d }
        let u = Array(text.utf8)
        let looksLikeDate = u.count == 10 && u[4] == UInt8(ascii: "-") && u[7] == UInt8(ascii: "-")
            && u.enumerated().allSatisfy { i, b in i == 4 || i == 7 || (b >= 0x30 && b <= 0x39) }
        if looksLikeDate { throw LogError(.invalidDate, "field \(field): the date \(text) does not exist") }
        throw shapeError(field, "a date (YYYY-MM-DD) expected")
    }

    private static func requiredString(_ value: JSONValue, _ field: String) throws(LogError) -> String {
        guard let raw = value[field] else { throw shapeError(field, "missing") }
        guard let text = raw.stringValue else { throw shapeError(field, "a string expected, found \(raw.kindName)") }
        return text
    }

    /// The contract's export form of a recorded event (one JSON Lines record).
    public static func encode(_ event: RecordedEvent, payload: JSONValue) -> JSONValue {
        var members: [JSONValue.Member] = [
            .init("position", .integer(event.position)),
            .init("stream", .string(event.stream)),
            .init("version", .integer(event.version)),
            .init("type", .string(event.type)),
            .init("eventId", .string(event.eventID.description)),
            .init("occurredOn", .string(event.occurredOn.description)),
            .init("recordedAt", .string(event.recordedAt.description)),
            .init("actor", event.actor.map(JSONValue.string) ?? .null),
        ]
        if event.schemaVersion != 1 { members.append(.init("schemaVersion", .integer(event.schemaVersion))) }
        members.append(.init("data", payload))
        members.append(.init("hash", .string(event.hashHex)))
        return .object(members)
    }
}

extension LogError.Code {
    /// A date that does not exist, e.g. 2026-02-30 (exit 2).
    public static let invalidDate = LogError.Code(rawValue: "invalidDate")
}

extension BusinessDate {
    /// Today in Norway (Europe/Oslo), or `IPLOG_TODAY` (YYYY-MM-DD) when set, which
    /// lets tests and demos fix the date.
    public static func today() -> BusinessDate {
        if let fixed = ProcessEnvironment.value("IPLOG_TODAY"), let date = BusinessDate(iso: fixed) { return date }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return inNorway(secondsSince1970: Int64(now.tv_sec))
    }

    /// The date in Norway at an instant: Norwegian normal time is UTC+1, summer
    /// time UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
    /// last Sunday of October (forskrift om sommertid, the EU's rule, in force
    /// since 1996; earlier dates are not asked for). Worked out here rather than
    /// through Foundation's calendar and time-zone data, whose set-up is a
    /// noticeable part of starting `iplog append`; a test holds it to Foundation's
    /// Europe/Oslo at every change of the clock from 1996 to 2037.
    public static func inNorway(secondsSince1970 t: Int64) -> BusinessDate {
        func day(_ seconds: Int64) -> Int64 { seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400 }
        let year = BusinessDate(daysSinceEpoch: Int32(day(t))).parts.year
        /// 01:00 UTC on the last Sunday of `month` (1970-01-01 was a Thursday).
        func lastSunday(_ month: Int) -> Int64 {
            let last = Int64(days(year: year, month: month, day: daysIn(month: month, year: year)))
            let weekday = ((last + 4) % 7 + 7) % 7  // 0 is Sunday
            return (last - weekday) * 86_400 + 3_600
        }
        let offset: Int64 = t >= lastSunday(3) && t < lastSunday(10) ? 7_200 : 3_600
        return BusinessDate(daysSinceEpoch: Int32(day(t + offset)))
    }
}
