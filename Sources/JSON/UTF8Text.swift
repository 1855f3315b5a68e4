extension String {
    /// `bytes` as a string when they are valid UTF-8, else nil.
    ///
    /// ASCII (ids, types, dates, most payload text) is valid UTF-8 as it is and
    /// is taken without the generic `String(validating:)`, which cost more than
    /// the rest of reading a string, in the JSON parser and in the record decoder.
    public init?(validUTF8 bytes: UnsafeRawBufferPointer) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            self.init(decoding: bytes, as: UTF8.self)
        } else if let text = String(validating: bytes, as: UTF8.self) {
            self = text
        } else {
            return nil
        }
    }
}
