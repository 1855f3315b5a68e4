import Foundation
import Testing
@testable import EventLog

/// Event ids are parsed and made without Foundation's `UUID` (which opened
/// `/dev/urandom` for every id); they must agree with it.
struct EventIDTests {
    @Test func parsesTheCanonicalFormInEitherCase() throws {
        let text = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
        let id = try #require(EventID(string: text))
        #expect(id.description == text)
        #expect(EventID(string: text.uppercased()) == id)
        #expect(id == EventID(UUID(uuidString: text)!))
        #expect(id.byteArray == [0x3f, 0x25, 0x04, 0xe0, 0x4f, 0x89, 0x41, 0xd3, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01])
        // What index keys are made of (and `byteArray` is built on).
        #expect(id.withUnsafeBytes { Array($0) } == [0x3f, 0x25, 0x04, 0xe0, 0x4f, 0x89, 0x41, 0xd3, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01])
    }

    @Test(arguments: [
        "", "3f2504e0-4f89-41d3-9a0c-0305e82c330", "3f2504e0-4f89-41d3-9a0c-0305e82c33011",
        "3f2504e04f89-41d3-9a0c-0305e82c3301-", "3f2504e0-4f89-41d3-9a0c-0305e82c330g",
        "3f2504e0_4f89_41d3_9a0c_0305e82c3301", "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
        "3f2504e0-4f89-41d3-9a0c-0305e82c33ø", "3f2504e0 4f89-41d3-9a0c-0305e82c3301",
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(EventID(string: text) == nil)
        #expect(UUID(uuidString: text) == nil)  // the same answer as Foundation's parser
    }

    @Test func randomIdsAreVersion4WithTheRFCVariant() {
        let ids = (0..<1000).map { _ in EventID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let b = id.byteArray
            #expect(b[6] >> 4 == 4)
            #expect(b[8] >> 6 == 0b10)
            #expect(EventID(string: id.description) == id)
            #expect(UUID(uuidString: id.description) != nil)
        }
    }
}
