@testable import ReadModels
import Testing

/// The rebuild's table of a lane's cases: every name gets the next index the
/// first time and the same index after, across the table's growth, and names
/// that share a prefix or a hash slot stay apart.
@Suite struct CaseTableTests {
    @Test func eachNameKeepsTheIndexItWasGivenFirst() {
        var table = CaseTable()
        let names = (0..<5_000).map { "case-\($0)" } + ["case-", "case-00", "case-000", "c"]
        func index(_ name: String) -> (index: Int, new: Bool) {
            Array(name.utf8).withUnsafeBytes { table.index(of: $0) }
        }
        for (i, name) in names.enumerated() {
            let found = index(name)
            #expect(found.index == i && found.new, "\(name)")
        }
        for (i, name) in names.enumerated().reversed() {
            let found = index(name)
            #expect(found.index == i && !found.new, "\(name)")
        }
        #expect(index("case-5000") == (names.count, true))
    }
}
