import EventLog
import JSON
import SampleData
import Testing
@testable import Domain

struct GeneratedHistoryTests {
    /// Thousands of realistic cases import with every rule checked and no
    /// refusal, and each case's history refolds to the state the policy kept.
    @Test func aGeneratedMunicipalityImportsAndReplaysToTheSameState() throws {
        try withStore { store in
            let items = sampleItems(cases: 1200, seed: 7)
            #expect(items.count > 40_000)
            var policy = DomainPolicy(today: today)
            let summary = try store.importEvents(items, batchSize: 2000, policy: &policy)
            #expect(summary.imported == items.count && summary.skipped == 0)

            var statuses: [CaseStatus: Int] = [:]
            for (stream, _) in try store.streams(prefix: "case-") {
                let replayed = try store.read(stream: stream).reduce(into: CaseState()) { s, e in
                    s.apply(try DomainEvent.decode(e), occurredOn: e.occurredOn, personKey: e.sealed?.slot)
                }
                let kept = try DomainPolicy.keptState(of: stream, in: store)
                #expect(replayed == kept, "\(stream)")
                statuses[replayed.status!, default: 0] += 1
            }
            // The sample covers every status.
            #expect(Set(statuses.keys) == Set(CaseStatus.allCases))
            #expect(try store.verify().ok)
        }
    }

    @Test func theGeneratorIsDeterministic() {
        var a: [String] = [], b: [String] = []
        SampleData.generate(.init(cases: 40, seed: 3)) { a.append($0.jsonText) }
        SampleData.generate(.init(cases: 40, seed: 3)) { b.append($0.jsonText) }
        var c: [String] = []
        SampleData.generate(.init(cases: 40, seed: 4)) { c.append($0.jsonText) }
        #expect(a == b && a != c)
    }
}
