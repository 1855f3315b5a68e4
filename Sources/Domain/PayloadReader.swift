import EventLog
import JSON

extension LogError.Code {
    /// A person id that is not a valid fødselsnummer or D-nummer (exit 2).
    public static let invalidPersonId = LogError.Code(rawValue: "invalidPersonId")
}

/// How ``DomainEvent`` reads a payload's fields: from its JSON form
/// (``PayloadReader``: appends, with errors that name the field) or straight
/// from the packed bytes the log stores (``PackedPayloadReader``: reads).
protocol PayloadFields {
    mutating func optionalString(_ field: String, required: Bool) throws(LogError) -> String?
    mutating func bool(_ field: String) throws(LogError) -> Bool
    mutating func optionalDate(_ field: String, required: Bool) throws(LogError) -> BusinessDate?
    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String) throws(LogError) -> E where E.RawValue == String
    /// A value from a closed list, or a former name of one (an older schema
    /// version's), read as the value it became.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String, formerNames: [String: E]) throws(LogError) -> E where E.RawValue == String
    /// A list of values from a closed list; duplicates are refused.
    mutating func choices<E: RawRepresentable & CaseIterable & Hashable>(_ field: String, nonEmpty: Bool) throws(LogError) -> [E] where E.RawValue == String
    mutating func strings(_ field: String) throws(LogError) -> [String]
    mutating func objects<T>(_ field: String, _ body: (inout Self) throws(LogError) -> T) throws(LogError) -> [T]
    mutating func personIDDigits(_ field: String) throws(LogError) -> String
}

extension PayloadFields {
    mutating func string(_ field: String) throws(LogError) -> String { try optionalString(field, required: true)! }
    mutating func optionalString(_ field: String) throws(LogError) -> String? { try optionalString(field, required: false) }
    mutating func date(_ field: String) throws(LogError) -> BusinessDate { try optionalDate(field, required: true)! }
    mutating func optionalDate(_ field: String) throws(LogError) -> BusinessDate? { try optionalDate(field, required: false) }
}

/// Reads a payload object field by field, with errors that name the field
/// (`data.actionItems[2].dueOn`) and never its value, and collects the fields
/// it read as the canonical payload: extra fields are dropped, so nothing the
/// catalogue does not know is stored.
struct PayloadReader: PayloadFields {
    private let members: [JSONValue.Member]
    /// Where the object is (`data`, `data.actionItems`), and its index in a list:
    /// the path for errors is only put together when there is an error.
    private let parent: String
    private let index: Int?
    /// Whether to collect the canonical payload (only appends need it).
    private let collecting: Bool
    /// Whether the payload comes from the log, where personal values may be
    /// sealed: an empty string is then a sealed value, not a shape error.
    private let sealedAllowed: Bool
    private(set) var read: [JSONValue.Member] = []
    /// Every field asked for, present or not: what the object may hold.
    private var asked: [String] = []

    init(_ value: JSONValue, path: String, index: Int? = nil, collecting: Bool = true, sealedAllowed: Bool = false) throws(LogError) {
        self.parent = path
        self.index = index
        guard case .object(let members) = value else {
            throw Envelope.shapeError(index.map { "\(path)[\($0)]" } ?? path, "an object expected, found \(value.kindName)")
        }
        self.members = members
        self.collecting = collecting
        self.sealedAllowed = sealedAllowed
    }

    /// The fields read so far, as a JSON object in reading order.
    var canonical: JSONValue { .object(read) }

    private var path: String { index.map { "\(parent)[\($0)]" } ?? parent }

    private func name(_ field: String) -> String { path + "." + field }

    private mutating func take(_ field: String, required: Bool) throws(LogError) -> JSONValue? {
        asked.append(field)
        guard let value = members.first(where: { $0.key == field })?.value, value != .null else {
            if required { throw Envelope.shapeError(name(field), "missing") }
            return nil
        }
        return value
    }

    private mutating func keep(_ field: String, _ value: JSONValue) {
        if collecting { read.append(.init(field, value)) }
    }

    mutating func optionalString(_ field: String, required: Bool) throws(LogError) -> String? {
        guard let value = try take(field, required: required) else { return nil }
        guard case .string(let s) = value else { throw Envelope.shapeError(name(field), "a string expected, found \(value.kindName)") }
        guard !s.isEmpty || sealedAllowed else { throw Envelope.shapeError(name(field), "must not be empty") }
        guard s.utf8.count <= 4000 else { throw Envelope.shapeError(name(field), "longer than 4000 bytes") }
        keep(field, value)
        return s
    }

    mutating func bool(_ field: String) throws(LogError) -> Bool {
        let value = try take(field, required: true)!
        guard case .bool(let b) = value else { throw Envelope.shapeError(name(field), "true or false expected, found \(value.kindName)") }
        keep(field, value)
        return b
    }

    mutating func optionalDate(_ field: String, required: Bool) throws(LogError) -> BusinessDate? {
        guard let value = try take(field, required: required) else { return nil }
        if case .string(let text) = value, let date = BusinessDate(iso: text) {
            keep(field, value)
            return date
        }
        let date = try Envelope.date(value, field: name(field))  // the error names the field
        keep(field, value)
        return date
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String) throws(LogError) -> E where E.RawValue == String {
        try choice(field, formerNames: [:])
    }

    /// The canonical payload keeps the current name: a former one is upcast.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String, formerNames: [String: E]) throws(LogError) -> E where E.RawValue == String {
        let value = try take(field, required: true)!
        guard case .string(let s) = value, let e = E(rawValue: s) ?? formerNames[s] else {
            throw Envelope.shapeError(name(field), "one of \(E.allCases.map { $0.rawValue }.joined(separator: ", ")) expected")
        }
        keep(field, .string(e.rawValue))
        return e
    }

    mutating func choices<E: RawRepresentable & CaseIterable & Hashable>(_ field: String, nonEmpty: Bool) throws(LogError) -> [E] where E.RawValue == String {
        let value = try take(field, required: true)!
        guard case .array(let items) = value else { throw Envelope.shapeError(name(field), "a list expected, found \(value.kindName)") }
        if nonEmpty, items.isEmpty { throw Envelope.shapeError(name(field), "must not be empty") }
        var out: [E] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, let e = E(rawValue: s) else {
                throw Envelope.shapeError("\(name(field))[\(i)]", "one of \(E.allCases.map { $0.rawValue }.joined(separator: ", ")) expected")
            }
            if out.contains(e) { throw Envelope.shapeError("\(name(field))[\(i)]", "\(s) is listed twice") }
            out.append(e)
        }
        keep(field, value)
        return out
    }

    mutating func strings(_ field: String) throws(LogError) -> [String] {
        let value = try take(field, required: true)!
        guard case .array(let items) = value else { throw Envelope.shapeError(name(field), "a list expected, found \(value.kindName)") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item, !s.isEmpty || sealedAllowed else { throw Envelope.shapeError("\(name(field))[\(i)]", "a non-empty string expected") }
            out.append(s)
        }
        keep(field, value)
        return out
    }

    /// Refuses a field of the object that the catalogue does not know (input
    /// only: what the log holds was checked when it was written), naming it and
    /// the known field it is closest to: a misspelt optional field must not
    /// vanish silently.
    func refuseUnknownFields() throws(LogError) {
        for member in members where !asked.contains(member.key) {
            throw Envelope.unknownField(member.key, at: path, among: asked)
        }
    }

    mutating func objects<T>(_ field: String, _ body: (inout PayloadReader) throws(LogError) -> T) throws(LogError) -> [T] {
        let value = try take(field, required: true)!
        guard case .array(let items) = value else { throw Envelope.shapeError(name(field), "a list expected, found \(value.kindName)") }
        var out: [T] = []
        var canonical: [JSONValue] = []
        let path = name(field)
        for (i, item) in items.enumerated() {
            var reader = try PayloadReader(item, path: path, index: i, collecting: collecting, sealedAllowed: sealedAllowed)
            out.append(try body(&reader))
            if collecting && !sealedAllowed { try reader.refuseUnknownFields() }
            if collecting { canonical.append(reader.canonical) }
        }
        keep(field, .array(canonical))
        return out
    }

    mutating func personIDDigits(_ field: String) throws(LogError) -> String {
        if sealedAllowed, let value = members.first(where: { $0.key == field })?.value,
           value == .string("") || value == .string(PackedJSON.erasedMarker) { return "" }
        // An export taken after an erasure says `[erased]` where the id was: it imports as a
        // case whose person is erased (the log gives it a key that is destroyed at once).
        if let value = members.first(where: { $0.key == field })?.value, value == .string(PackedJSON.erasedMarker) {
            asked.append(field)
            keep(field, value)
            return PackedJSON.erasedMarker
        }
        return try personID(field).digits
    }

    mutating func personID(_ field: String) throws(LogError) -> PersonID {
        let value = try take(field, required: true)!
        guard case .string(let s) = value else { throw Envelope.shapeError(name(field), "a string of 11 digits expected, found \(value.kindName)") }
        guard let id = PersonID(s) else {
            throw LogError(.invalidPersonId, "field \(name(field)): not a valid fødselsnummer or D-nummer")
        }
        keep(field, value)
        return id
    }
}

/// Reads a stored payload's fields straight from its packed bytes, as
/// ``PayloadReader`` reads the JSON form of a payload from the log (personal
/// values may be sealed; nothing is collected), without building the
/// ``JSONValue`` tree first.
///
/// Accepts only what ``PayloadReader`` accepts, with the same values; where it
/// cannot read a field it throws without saying why, and the caller reads the
/// payload again the slow way, whose error names the field
/// (``DomainEvent/decode(_:keys:)``). Lends the buffer it reads.
struct PackedPayloadReader: PayloadFields {
    private let object: PackedObject
    /// Where the last field was found: the catalogue reads the fields in the
    /// order they are stored, so the next is looked for from there.
    private var hint: Int

    /// Thrown where a field does not read; never shown (see above).
    static let unreadable = LogError(.invalidShape, "the packed payload does not read directly")

    /// An object whose member names are all ASCII: names are compared byte for
    /// byte here, but as Swift compares strings by ``PayloadReader``, which
    /// might equate another name with a field's.
    init(_ object: PackedObject?) throws(LogError) {
        guard let object, object.namesAreASCII else { throw Self.unreadable }
        self.object = object
        self.hint = object.startHint
    }

    /// The field, nil when missing or null.
    private mutating func take(_ field: String, required: Bool) throws(LogError) -> PackedValue? {
        guard let value = object.member(field, hint: &hint), !value.isNull else {
            if required { throw Self.unreadable }
            return nil
        }
        return value
    }

    mutating func optionalString(_ field: String, required: Bool) throws(LogError) -> String? {
        guard let value = try take(field, required: required) else { return nil }
        guard let s = value.string, s.utf8.count <= 4000 else { throw Self.unreadable }
        return s
    }

    mutating func bool(_ field: String) throws(LogError) -> Bool {
        guard let b = try take(field, required: true)!.bool else { throw Self.unreadable }
        return b
    }

    mutating func optionalDate(_ field: String, required: Bool) throws(LogError) -> BusinessDate? {
        guard let value = try take(field, required: required) else { return nil }
        guard let text = value.stringBytes, let date = BusinessDate(isoBytes: text) else { throw Self.unreadable }
        return date
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String) throws(LogError) -> E where E.RawValue == String {
        try choice(field, formerNames: [:])
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String, formerNames: [String: E]) throws(LogError) -> E where E.RawValue == String {
        guard let s = try take(field, required: true)!.string, let e = E(rawValue: s) ?? formerNames[s] else { throw Self.unreadable }
        return e
    }

    mutating func choices<E: RawRepresentable & CaseIterable & Hashable>(_ field: String, nonEmpty: Bool) throws(LogError) -> [E] where E.RawValue == String {
        let out = try list(field) { (item) throws(LogError) -> E in
            guard let s = item.string, let e = E(rawValue: s) else { throw Self.unreadable }
            return e
        }
        guard !(nonEmpty && out.isEmpty), !out.indices.contains(where: { out[..<$0].contains(out[$0]) }) else { throw Self.unreadable }
        return out
    }

    mutating func strings(_ field: String) throws(LogError) -> [String] {
        try list(field) { (item) throws(LogError) -> String in
            guard let s = item.string else { throw Self.unreadable }
            return s
        }
    }

    mutating func objects<T>(_ field: String, _ body: (inout PackedPayloadReader) throws(LogError) -> T) throws(LogError) -> [T] {
        let value = try take(field, required: true)!
        guard let count = value.itemCount else { throw Self.unreadable }
        var out: [T] = []
        out.reserveCapacity(count)
        guard try value.forEachObject({ (object) throws(LogError) in
            var reader = try PackedPayloadReader(object)
            out.append(try body(&reader))
        }) else { throw Self.unreadable }
        return out
    }

    /// The items of the array `field`, each read by `body` where it lies (no
    /// array of the packed items is made).
    private mutating func list<T>(_ field: String, _ body: (PackedValue) throws(LogError) -> T) throws(LogError) -> [T] {
        let value = try take(field, required: true)!
        guard let count = value.itemCount else { throw Self.unreadable }
        var out: [T] = []
        out.reserveCapacity(count)
        guard try value.forEachItem({ (item) throws(LogError) in out.append(try body(item)) }) else { throw Self.unreadable }
        return out
    }

    mutating func personIDDigits(_ field: String) throws(LogError) -> String {
        guard let s = try take(field, required: true)!.string else { throw Self.unreadable }
        if s == "" || s == PackedJSON.erasedMarker { return "" }
        guard let id = PersonID(s) else { throw Self.unreadable }
        return id.digits
    }
}
