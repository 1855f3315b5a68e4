/// A syntax error in JSON text, with the byte offset where it was found.
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Offset (from 0) of the byte where parsing stopped.
    public var offset: Int
    /// What was wrong, in plain words.
    public var reason: String

    public var description: String { "\(reason) at byte \(offset + 1)" }
}

/// A strict JSON parser (RFC 8259) over UTF-8 bytes.
///
/// Strict where lenient parsers guess: invalid UTF-8, unescaped control
/// characters, lone surrogates, duplicate keys, leading zeros and trailing
/// garbage are errors. Nesting deeper than ``maximumDepth`` is an error rather
/// than a stack overflow, so no input can crash it.
public struct JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 64

    /// Parses one JSON value that fills `bytes` (surrounding white space allowed).
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) in
                var parser = Cursor(bytes: buffer)
                return try parser.document()
            }
        }.get()
    }

    /// Parses one JSON value from a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var depth = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func document() throws(JSONSyntaxError) -> JSONValue {
            skipSpace()
            if index == bytes.count { throw fail("empty input") }
            let value = try value()
            skipSpace()
            if index != bytes.count { throw fail("unexpected text after the JSON value") }
            return value
        }

        func fail(_ reason: String) -> JSONSyntaxError {
            JSONSyntaxError(offset: index, reason: reason)
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value() throws(JSONSyntaxError) -> JSONValue {
            guard index < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw fail("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw fail("unexpected end of input") }
            for i in 0..<count where bytes[index + i] != word.utf8Start[i] {
                throw fail("invalid literal")
            }
            index += count
        }

        mutating func enter() throws(JSONSyntaxError) {
            depth += 1
            if depth > JSONParser.maximumDepth {
                throw fail("nesting deeper than \(JSONParser.maximumDepth) levels")
            }
        }

        mutating func object() throws(JSONSyntaxError) -> JSONValue {
            try enter()
            index += 1
            var members: [JSONValue.Member] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw fail("expected a key in double quotes")
                }
                let keyStart = index
                let key = try string()
                if members.contains(where: { $0.key == key }) {
                    throw JSONSyntaxError(offset: keyStart, reason: "duplicate key \"\(key)\"")
                }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw fail("expected ':' after a key")
                }
                index += 1
                skipSpace()
                members.append(JSONValue.Member(key, try value()))
                skipSpace()
                guard index < bytes.count else { throw fail("unexpected end of input in an object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                throw fail("expected ',' or '}' in an object")
            }
            depth -= 1
            return .object(members)
        }

        mutating func array() throws(JSONSyntaxError) -> JSONValue {
            try enter()
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value())
                skipSpace()
                guard index < bytes.count else { throw fail("unexpected end of input in an array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; break }
                throw fail("expected ',' or ']' in an array")
            }
            depth -= 1
            return .array(items)
        }

        mutating func number() throws(JSONSyntaxError) -> JSONValue {
            let start = index
            func digit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, digit(bytes[index]) else { throw fail("invalid number") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, digit(bytes[index]) { throw fail("leading zero in a number") }
            } else {
                while index < bytes.count, digit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, digit(bytes[index]) else { throw fail("invalid fraction") }
                while index < bytes.count, digit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard index < bytes.count, digit(bytes[index]) else { throw fail("invalid exponent") }
                while index < bytes.count, digit(bytes[index]) { index += 1 }
            }
            if index - start > 64 { throw JSONSyntaxError(offset: start, reason: "number longer than 64 characters") }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        }

        /// A string literal; `index` is at the opening quote.
        mutating func string() throws(JSONSyntaxError) -> String {
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    guard let s = String(validUTF8: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[start..<index]))) else {
                        throw JSONSyntaxError(offset: start, reason: "invalid UTF-8 in a string")
                    }
                    index += 1
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw fail("control character in a string") }
                index += 1
            }
            guard index < bytes.count else { throw fail("unterminated string") }
            // Slow path with escapes.
            var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let b = bytes[index]
                switch b {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let s = out.withUnsafeBytes({ String(validUTF8: $0) }) else {
                        throw JSONSyntaxError(offset: start, reason: "invalid UTF-8 in a string")
                    }
                    return s
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw fail("unterminated string") }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                                  bytes[index + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate in a string") }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in a string") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw fail("lone surrogate in a string")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw fail("invalid escape in a string")
                    }
                default:
                    if b < 0x20 { throw fail("control character in a string") }
                    out.append(b)
                    index += 1
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw fail("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let d: UInt32
                switch b {
                case 0x30...0x39: d = UInt32(b - 0x30)
                case 0x41...0x46: d = UInt32(b - 0x41 + 10)
                case 0x61...0x66: d = UInt32(b - 0x61 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | d
                index += 1
            }
            return v
        }
    }
}
