import EventLog
import JSON
import Testing
@testable import Domain

/// The policy keeps folded states in memory from batch to batch; what a batch
/// that did not commit taught it must not outlive that batch.
struct PolicyCacheTests {
    func proposed(_ stream: String, _ type: String, _ json: String? = nil) throws -> ProposedEvent {
        try Catalogue.validate(ProposedEvent(stream: stream, type: type, occurredOn: d("2026-01-20"),
                                             payload: json.map { try JSONParser.parse($0) } ?? payload(type)))
    }

    func application(person: String) -> String {
        #"{"personId":"\#(person)","receivedOn":"2026-01-05","requested":["individualPlan"],"origin":"application","unit":"Hjemmetjenesten"}"#
    }

    @Test func aBatchThatDidNotCommitLeavesNoStateBehind() throws {
        let first = validID("140385", individualFrom: 0), second = validID("020490", individualFrom: 100)
        try withStore { store in
            var policy = DomainPolicy(today: today)
            // Case 1 gets an assessment in a batch that is then refused as a whole.
            #expect {
                try store.append([try proposed("case-000001", "ApplicationReceived", application(person: first)),
                                  try proposed("case-000001", "AssessmentCompleted"),
                                  try proposed("case-000002", "ApplicationReceived", application(person: first))],
                                 policy: &policy)
            } throws: { ((($0 as? AppendFailure)?.error) as? Refusal)?.code.rawValue == "personHasOpenCase" }
            // Another writer gives case 1 two other events: its version 2 has no assessment.
            var other = DomainPolicy(today: today)
            try store.append([try proposed("case-000001", "ApplicationReceived", application(person: second)),
                              try proposed("case-000001", "PreliminaryReplySent")], policy: &other)
            #expect(try store.version(of: "case-000001") == 2)
            // A decision needs an assessment: judged on the log, not on the refused batch.
            #expect {
                try store.append(try proposed("case-000001", "DecisionMade"), policy: &policy)
            } throws: { ((($0 as? AppendFailure)?.error) as? Refusal)?.code.rawValue == "assessmentRequired" }
        }
    }
}
