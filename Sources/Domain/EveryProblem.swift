import EventLog

/// Reads a payload on input and keeps going past a missing or wrong field, so
/// that one refusal names every field of the line that is wrong (one event
/// should not take seven tries). Each field's error is recorded and a harmless
/// value returned in its place; the caller throws them all together
/// (``LogError/combining(_:)``), and the event read with those values is never used.
struct EveryProblem: PayloadFields {
    var inner: PayloadReader
    private(set) var problems: [LogError] = []

    init(_ inner: PayloadReader) { self.inner = inner }

    private mutating func attempt<T>(_ fallback: T, _ read: (inout PayloadReader) throws(LogError) -> T) -> T {
        do {
            return try read(&inner)
        } catch {
            problems.append(error)
            return fallback
        }
    }

    static let placeholderDate = BusinessDate(iso: "2000-01-01")!

    mutating func optionalString(_ field: String, required: Bool) throws(LogError) -> String? {
        attempt(required ? "" : nil) { (r: inout PayloadReader) throws(LogError) in try r.optionalString(field, required: required) }
    }
    mutating func bool(_ field: String) throws(LogError) -> Bool {
        attempt(false) { (r: inout PayloadReader) throws(LogError) in try r.bool(field) }
    }
    mutating func optionalDate(_ field: String, required: Bool) throws(LogError) -> BusinessDate? {
        attempt(required ? Self.placeholderDate : nil) { (r: inout PayloadReader) throws(LogError) in try r.optionalDate(field, required: required) }
    }
    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String) throws(LogError) -> E where E.RawValue == String {
        attempt(E.allCases.first!) { (r: inout PayloadReader) throws(LogError) -> E in try r.choice(field) }
    }
    mutating func choice<E: RawRepresentable & CaseIterable>(_ field: String, formerNames: [String: E]) throws(LogError) -> E where E.RawValue == String {
        attempt(E.allCases.first!) { (r: inout PayloadReader) throws(LogError) -> E in try r.choice(field, formerNames: formerNames) }
    }
    mutating func choices<E: RawRepresentable & CaseIterable & Hashable>(_ field: String, nonEmpty: Bool) throws(LogError) -> [E] where E.RawValue == String {
        attempt([]) { (r: inout PayloadReader) throws(LogError) -> [E] in try r.choices(field, nonEmpty: nonEmpty) }
    }
    mutating func strings(_ field: String) throws(LogError) -> [String] {
        attempt([]) { (r: inout PayloadReader) throws(LogError) in try r.strings(field) }
    }
    mutating func personIDDigits(_ field: String) throws(LogError) -> String {
        attempt("") { (r: inout PayloadReader) throws(LogError) in try r.personIDDigits(field) }
    }
    mutating func objects<T>(_ field: String, _ body: (inout EveryProblem) throws(LogError) -> T) throws(LogError) -> [T] {
        var nestedProblems: [LogError] = []
        let before = problems.count
        let result = attempt([T]()) { (r: inout PayloadReader) throws(LogError) -> [T] in
            try r.objects(field) { (nested: inout PayloadReader) throws(LogError) -> T in
                var wrapped = EveryProblem(nested)
                let value = try body(&wrapped)
                nested = wrapped.inner
                nestedProblems += wrapped.problems
                return value
            }
        }
        // The items' own problems come before one found after reading them (an unknown field).
        problems.insert(contentsOf: nestedProblems, at: before)
        return result
    }

    /// Records the fields the catalogue does not know.
    mutating func refuseUnknownFields() {
        attempt(()) { (r: inout PayloadReader) throws(LogError) in try r.refuseUnknownFields() }
    }
}

extension LogError {
    /// One error for several: the first's code, every message in order
    /// ("field data.a: missing; field data.b: …").
    static func combining(_ errors: [LogError]) -> LogError {
        guard errors.count > 1 else { return errors[0] }
        return LogError(errors[0].code, errors.map(\.message).joined(separator: "; "))
    }
}
