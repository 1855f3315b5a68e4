import EventLog
import JSON

extension DomainEvent {
    /// The personal values of an event of `type`: what is stored sealed under
    /// the key of the person the case is about, and destroyed with it.
    ///
    /// The person id, and free text that may name or describe people (grounds,
    /// reasons, descriptions, summaries, who is responsible, who attended). Left
    /// in the clear are ids, dates, closed-list values, the unit and group
    /// members' roles and organisations, the names of the services assessed
    /// (the rules count them), and everything in coordinator streams (staff,
    /// not the plan's person). Nothing a read model or a rule needs is sealed,
    /// except the birth date within the person id, which the deviation report
    /// reads from the opened id (so a rebuild after an erasure no longer knows
    /// it; docs/STORAGE.md).
    public static func sealedFields(of type: String) -> SealedFields? {
        Kind.named[type]?.declaration.sealed
    }

    /// Decodes a recorded event as the read models see it: personal values
    /// sealed (empty), except the person id of an application when `keys` are
    /// given and the person's key is not erased.
    ///
    /// Read straight from the packed payload where no value needs opening; a
    /// payload that does not read that way is decoded again from its JSON form,
    /// for the same event or the error that names the field.
    public static func decode(_ event: RecordedEvent, keys: PersonKeys? = nil) throws -> DomainEvent {
        let opens = keys != nil && event.type == "ApplicationReceived" && event.sealed != nil
        if !opens, let decoded = try? event.packedPayload.withUnsafeBytes({ bytes throws(LogError) in
            try decode(type: event.type, schemaVersion: event.schemaVersion, packed: bytes)
        }) {
            return decoded
        }
        let payload = if opens, let keys { try event.payload(keys: keys) } else { try event.payload() }
        return try decode(type: event.type, schemaVersion: event.schemaVersion, payload: payload, canonical: false, sealed: true).event
    }
}

extension DomainEvent {
    /// Decodes a stored event as the read models see it, as
    /// ``decode(_:keys:)`` does a recorded one: straight from the bytes the
    /// log lends (no copy, no ``JSONValue``; an event of closed-list values,
    /// dates and short ids allocates nothing), or, for an application whose
    /// person id is to be opened and a payload that does not read directly,
    /// through its owned form.
    public static func decode(_ event: StoredEvent, keys: PersonKeys? = nil) throws -> DomainEvent {
        if let kind = Kind.named(utf8: event.typeBytes),
           !(keys != nil && kind == .applicationReceived && event.sealedSlot != nil),
           let decoded = try? decode(kind: kind, schemaVersion: event.schemaVersion, packed: event.packedPayload) {
            return decoded
        }
        return try decode(try event.recorded(), keys: keys)
    }
}

extension LogError.Code {
    /// `iplog erase` of a person the store has no key for (exit 2).
    public static let unknownPerson = LogError.Code(rawValue: "unknownPerson")
}

/// Reading a case's personal values back, for the outputs that show them.
public enum PersonalData {
    /// The person id of the case `stream`, opened from its application;
    /// ``PackedJSON/erasedMarker`` when the person's key is erased; nil when the
    /// case has no application.
    public static func personId(ofCase stream: String, in store: EventStore) throws -> String? {
        var version: UInt64 = 1
        while true {
            let page = try store.read(stream: stream, from: version, limit: 8)
            for event in page where event.type == "ApplicationReceived" {
                return try event.payload(keys: store.personKeys)["personId"]?.stringValue
            }
            guard let last = page.last, page.count == 8 else { return nil }
            version = last.version + 1
        }
    }

    /// The person id in an event's opened payload, if it names one.
    public static func personId(in payload: JSONValue) -> String? {
        guard let id = payload["personId"]?.stringValue, id != PackedJSON.erasedMarker else { return nil }
        return id
    }
}

extension PersonalData {
    /// Events whose personal values are stored in the clear: a non-empty
    /// string where the catalogue's sealing spec says personal data goes. An
    /// erasure cannot reach them (the log is immutable). Before 0.10, a mistake
    /// in the spec of `GoalAdded` and `MeasureAdded` stored theirs so.
    public struct ClearValues: Sendable, Hashable {
        /// How many events, by type.
        public var byType: [String: Int] = [:]
        /// The first positions found (at most 20).
        public var positions: [UInt64] = []
        public var events: Int { byType.values.reduce(0, +) }

        public init() {}

        /// `{"events", "byType", "positions"}`, as `verify --json` prints it.
        public var json: JSONValue {
            let types = byType.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, .integer($0.value)) }
            let first = positions.map { JSONValue.integer($0) }
            return .object([.init("events", .integer(events)), .init("byType", .object(types)), .init("positions", .array(first))])
        }

        /// One line for people: how many, of which types, where first.
        public var summary: String {
            let types = byType.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            let first = positions.prefix(5).map(String.init).joined(separator: ", ")
            return "\(events) events hold personal values in the clear, which an erasure cannot remove (\(types); first at positions \(first)): written before iplog 0.10 sealed them"
        }
    }

    /// Scans the log for ``ClearValues``.
    public static func clearValues(in store: EventStore) throws -> ClearValues {
        var found = ClearValues()
        try store.forEach { event in
            guard let spec = DomainEvent.sealedFields(of: event.type), hasClearValue(try event.payload(), spec) else { return true }
            found.byType[event.type, default: 0] += 1
            if found.positions.count < 20 { found.positions.append(event.position) }
            return true
        }
        return found
    }

    /// Whether `value` holds a non-empty string where `spec` seals (sealed ones read as "").
    static func hasClearValue(_ value: JSONValue, _ spec: SealedFields) -> Bool {
        switch value {
        case .string(let s): spec == .all && !s.isEmpty
        case .array(let items): items.contains { hasClearValue($0, spec) }
        case .object(let members): members.contains { m in spec.member(m.key).map { hasClearValue(m.value, $0) } ?? false }
        default: false
        }
    }
}
