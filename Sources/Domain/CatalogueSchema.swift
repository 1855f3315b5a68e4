import EventLog
import JSON

/// The event catalogue as its users read it (`iplog types`): each type's
/// fields, whether they are required, and the values a closed list allows.
///
/// It is read from the decoder itself (``DomainEvent``'s reading is generic
/// over ``PayloadFields``): a reader that records each field it is asked for
/// instead of reading one. So the list cannot drift from what an append
/// accepts; a test holds every example line to the catalogue's own check.
public enum CatalogueSchema {
    /// One field of a payload.
    public struct Field: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case string, date, bool, personId
            /// One value of a closed list.
            case choice([String])
            /// A list of values of a closed list (`nonEmpty`: at least one).
            case choices([String], nonEmpty: Bool)
            /// A list of strings.
            case strings
            /// A list of objects with these fields.
            case objects([Field])
        }

        public var name: String
        public var kind: Kind
        public var required: Bool
    }

    /// An event type: its stream kind and payload fields.
    public struct EventType: Sendable, Hashable {
        public var name: String
        public var stream: StreamKind
        public var fields: [Field]
        /// The payload's current schema version (older ones are still read).
        public var schemaVersion: UInt16 = 1
    }

    /// Every type of the catalogue, case streams' first.
    public static let types: [EventType] = DomainEvent.allTypes.map { name in
        var recorder = Recorder()
        let event = try? DomainEvent.readForSchema(type: name, &recorder)
        return EventType(name: name, stream: event?.streamKind ?? .case, fields: recorder.fields, schemaVersion: DomainEvent.schemaVersion(of: name))
    }

    /// An example line of `type` that the catalogue accepts (an import line).
    public static func example(_ type: EventType) -> JSONValue {
        let stream = type.stream == .case ? "case-000123" : "coordinator-0042"
        return .object([
            .init("stream", .string(stream)), .init("type", .string(type.name)),
            .init("data", .object(type.fields.compactMap { $0.required || $0.name == "nextEvaluationDue" ? .init($0.name, example($0)) : nil })),
        ])
    }

    static func example(_ field: Field) -> JSONValue {
        switch field.kind {
        case .string:
            switch field.name {
            case "coordinatorId": return "0042"
            case let name where name.hasSuffix("Id"): return .string(String(name.prefix(1)) + "-1")
            default: return "tekst"
            }
        case .date: return ["dueOn", "nextEvaluationDue", "scheduledFor", "plannedFor", "expectedDecisionBy"].contains(field.name) ? "2026-09-01" : "2026-03-02"
        case .bool: return true
        case .personId: return .string(Self.examplePersonId)
        case .choice(let values): return .string(values[0])
        case .choices(let values, _): return .array([.string(values[0])])
        case .strings: return .array(["tekst"])
        case .objects(let fields): return .array([.object(fields.filter(\.required).map { .init($0.name, example($0)) })])
        }
    }

    /// A valid but made-up fødselsnummer (born 1 January 1990).
    static let examplePersonId = "01019010046"

    /// Records the fields a decoder asks for, with harmless values.
    struct Recorder: PayloadFields {
        var fields: [Field] = []
        static let date = BusinessDate(iso: "2026-03-02")!

        mutating func optionalString(_ field: String, required: Bool) throws(LogError) -> String? {
            fields.append(Field(name: field, kind: .string, required: required))
            return "x"
        }
        mutating func bool(_ field: String) throws(LogError) -> Bool {
            fields.append(Field(name: field, kind: .bool, required: true))
            return false
        }
        mutating func optionalDate(_ field: String, required: Bool) throws(LogError) -> BusinessDate? {
            fields.append(Field(name: field, kind: .date, required: required))
            return Self.date
        }
        mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String) throws(LogError) -> E where E.RawValue == String {
            fields.append(Field(name: field, kind: .choice(E.allCases.map(\.rawValue)), required: true))
            return E.allCases.first!
        }
        /// The current names only: a former one is read, not offered.
        mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String, formerNames: [String: E]) throws(LogError) -> E where E.RawValue == String {
            try choice(field)
        }
        mutating func choices<E: RawRepresentable & CaseIterable & Hashable>(_ field: String, nonEmpty: Bool) throws(LogError) -> [E] where E.RawValue == String {
            fields.append(Field(name: field, kind: .choices(E.allCases.map(\.rawValue), nonEmpty: nonEmpty), required: true))
            return [E.allCases.first!]
        }
        mutating func strings(_ field: String) throws(LogError) -> [String] {
            fields.append(Field(name: field, kind: .strings, required: true))
            return []
        }
        mutating func objects<T>(_ field: String, _ body: (inout Recorder) throws(LogError) -> T) throws(LogError) -> [T] {
            var nested = Recorder()
            let one = try body(&nested)
            fields.append(Field(name: field, kind: .objects(nested.fields), required: true))
            return [one]
        }
        mutating func personIDDigits(_ field: String) throws(LogError) -> String {
            fields.append(Field(name: field, kind: .personId, required: true))
            return CatalogueSchema.examplePersonId
        }
    }
}

extension DomainEvent {
    /// The decoder's reading of `type`'s fields, for ``CatalogueSchema``.
    static func readForSchema(type: String, _ r: inout CatalogueSchema.Recorder) throws(LogError) -> DomainEvent {
        try read(type: type, &r)
    }
}
