/// Rows in PostgreSQL's COPY text format: fields separated by tabs, rows by
/// newlines, `\N` for null, and backslash, tab, newline and carriage return
/// escaped in values.
struct CopyText {
    private(set) var bytes: [UInt8] = []
    private(set) var rows = 0
    private var rowStarted = false

    init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    mutating func field(_ value: String?) {
        separate()
        guard let value else {
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "N"))
            return
        }
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\\"): bytes.append(b); bytes.append(b)
            case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            default: bytes.append(b)
            }
        }
    }

    mutating func field(_ value: some BinaryInteger) { field(String(value)) }
    mutating func field(_ value: Bool) { field(value ? "t" : "f") }

    mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        rows += 1
        rowStarted = false
    }

    private mutating func separate() {
        if rowStarted { bytes.append(UInt8(ascii: "\t")) }
        rowStarted = true
    }
}
