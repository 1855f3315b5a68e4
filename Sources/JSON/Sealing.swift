/// Which string values of a payload are personal data, to be stored sealed
/// (encrypted under the person's key) rather than in the clear.
///
/// A spec mirrors the payload's objects; arrays are transparent (a spec applies
/// to every item), and ``all`` covers every string below it.
public indirect enum SealedFields: Hashable, Sendable {
    /// Every string value here and below.
    case all
    /// The named members, each with its own spec.
    case members([String: SealedFields])

    /// The spec of the member `key` of an object this spec covers.
    public func member(_ key: String) -> SealedFields? {
        switch self {
        case .all: .all
        case .members(let named): named[key]
        }
    }
}

extension PackedJSON {
    /// The packed bytes of `value` with the strings `fields` names left empty,
    /// and those strings, in the order the packed form holds them.
    ///
    /// Every empty string in the result is a sealed one (an empty string in
    /// `value` itself is sealed too), so ``decode(_:unsealing:)`` needs no spec
    /// to put the strings back: the catalogue refuses empty strings in input, and
    /// this keeps the rule true whatever the input.
    public static func encode(_ value: JSONValue, sealing fields: SealedFields) -> (packed: [UInt8], sealed: [String]) {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        var sealed: [String] = []
        encode(value, spec: fields, into: &out, sealed: &sealed)
        return (out, sealed)
    }

    private static func encode(_ value: JSONValue, spec: SealedFields?, into out: inout [UInt8], sealed: inout [String]) {
        switch value {
        case .string(let s) where spec == .all || s.isEmpty:
            sealed.append(s)
            out.append(Tag.string.rawValue)
            out.append(0)
        case .array(let items):
            out.append(Tag.array.rawValue)
            Varint.append(UInt64(items.count), to: &out)
            for item in items { encode(item, spec: spec, into: &out, sealed: &sealed) }
        case .object(let members):
            out.append(Tag.object.rawValue)
            Varint.append(UInt64(members.count), to: &out)
            for member in sortedByKey(members) {
                appendKey(member.key, to: &out)
                encode(member.value, spec: spec?.member(member.key), into: &out, sealed: &sealed)
            }
        default:
            encode(value, into: &out)
        }
    }

    /// Whether `value` has a string that `fields` seals.
    public static func hasSealedValues(_ value: JSONValue, _ fields: SealedFields) -> Bool {
        switch (value, fields) {
        case (.string, .all): true
        case (.array(let items), _): items.contains { hasSealedValues($0, fields) }
        case (.object(let members), .all): members.contains { hasSealedValues($0.value, .all) }
        case (.object(let members), .members(let named)):
            members.contains { m in named[m.key].map { hasSealedValues(m.value, $0) } ?? false }
        default: false
        }
    }

    /// Decodes packed bytes whose empty strings are sealed values, putting
    /// `plaintexts` back in order; with nil (the key is erased) every sealed
    /// value reads as `erasedMarker`.
    /// - Throws: ``PackedJSONError`` when the bytes are damaged or the number of
    ///   plaintexts does not match.
    public static func decode(_ bytes: [UInt8], unsealing plaintexts: [String]?, erasedMarker: String = PackedJSON.erasedMarker) throws(PackedJSONError) -> JSONValue {
        var next = 0
        let value = try decode(bytes)
        let result = substitute(value) { () -> String? in
            defer { next += 1 }
            guard let plaintexts else { return erasedMarker }
            return next < plaintexts.count ? plaintexts[next] : nil
        }
        guard let result, plaintexts == nil || next == plaintexts!.count else {
            throw PackedJSONError(reason: "the sealed values do not match the payload")
        }
        return result
    }

    /// How an erased personal value reads.
    public static let erasedMarker = "[erased]"

    private static func substitute(_ value: JSONValue, _ next: () -> String?) -> JSONValue? {
        switch value {
        case .string(let s) where s.isEmpty:
            return next().map(JSONValue.string)
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let v = substitute(item, next) else { return nil }
                out.append(v)
            }
            return .array(out)
        case .object(let members):
            var out: [JSONValue.Member] = []
            out.reserveCapacity(members.count)
            for m in members {
                guard let v = substitute(m.value, next) else { return nil }
                out.append(.init(m.key, v))
            }
            return .object(out)
        default:
            return value
        }
    }
}
