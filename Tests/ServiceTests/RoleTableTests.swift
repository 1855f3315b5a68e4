import Application
import Domain
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Testing

/// Every role against every endpoint and every event type, both answers
/// checked: what a role may do is done (never 401/403), what it may not is
/// answered 403 and writes nothing. The expected answers are written out here
/// from the role table, not read from the code under test.
@Suite(.serialized) struct RoleTableTests {
    /// GET routes and what each role gets on `case-000001` (coordinator 0042's, unit Hjemmetjenesten).
    static let reads: [(path: String, answers: [Role: Int])] = [
        ("/v1/cases/case-000001", [.caseOffice: 200, .coordinatingUnit: 200, .coordinator: 200, .unitManager: 403, .auditor: 200, .integration: 403]),
        ("/v1/streams/case-000001", [.caseOffice: 200, .coordinatingUnit: 200, .coordinator: 200, .unitManager: 403, .auditor: 200, .integration: 403]),
        ("/v1/cases", [.caseOffice: 200, .coordinatingUnit: 200, .coordinator: 200, .unitManager: 200, .auditor: 403, .integration: 403]),
        ("/v1/reports/deviations", [.caseOffice: 200, .coordinatingUnit: 200, .coordinator: 200, .unitManager: 200, .auditor: 403, .integration: 403]),
        ("/v1/reports/workload", [.caseOffice: 403, .coordinatingUnit: 200, .coordinator: 200, .unitManager: 200, .auditor: 403, .integration: 403]),
        ("/v1/access-log?person=\(ServiceFixture.adult)", [.caseOffice: 403, .coordinatingUnit: 200, .coordinator: 403, .unitManager: 403, .auditor: 200, .integration: 403]),
        ("/v1/events?from=1&limit=5", [.caseOffice: 403, .coordinatingUnit: 403, .coordinator: 403, .unitManager: 403, .auditor: 403, .integration: 200]),
    ]

    @Test func everyRoleAgainstEveryReadRoute() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            for (path, answers) in Self.reads {
                for role in Role.allCases {
                    let response = try await client.execute(uri: path, method: .get, headers: fixture.headers(role))
                    #expect(response.status.code == answers[role]!, "\(role) GET \(path): \(response.text)")
                    if response.status.code == 403 {
                        #expect(response.json?["error"]?["code"]?.stringValue == "forbidden")
                    }
                }
                // No token, and a token that is not one: 401, with the contract's error object.
                for headers: HTTPFields in [[:], [.authorization: "Bearer iplog_notatoken"], [.authorization: "Bearer x.y.z"], [.authorization: "Basic a2w6cHc="]] {
                    let response = try await client.execute(uri: path, method: .get, headers: headers)
                    #expect(response.status == .unauthorized, "\(headers) GET \(path)")
                    #expect(response.json?["error"]?["code"]?.stringValue == "unauthenticated")
                }
            }
        }
    }

    /// What each role may append (the role table), for every event type.
    static let appends: [Role: Set<String>] = [
        .caseOffice: ["ApplicationReceived", "PreliminaryReplySent", "AssessmentCompleted", "ConsentGiven", "ConsentWithdrawn", "DecisionMade",
                      "DecisionSent", "AppealReceived", "AppealForwarded", "AppealDecided", "PlanClosed", "DeviationReported"],
        .coordinatingUnit: ["CoordinatorAppointed", "CoordinatorReleased", "DeviationReported", "DeviationResolved", "PlanClosed",
                            "CoordinatorRegistered", "CoordinatorTrained", "CoordinatorDeactivated"],
        .coordinator: ["ConsentGiven", "ConsentWithdrawn", "GroupMemberAdded", "GroupMemberRemoved", "MeetingScheduled", "MeetingHeld",
                       "MinutesWritten", "MeetingCancelled", "ActionItemCompleted", "PlanEstablished", "GoalAdded", "GoalAchieved",
                       "MeasureAdded", "PlanEvaluated", "TransitionPlanned", "DeviationReported", "PlanClosed"],
        .unitManager: ["DeviationReported", "DeviationResolved"],
        .auditor: [],
        .integration: Set(DomainEvent.allTypes),
    ]

    @Test func everyRoleAgainstEveryEventType() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let json: HTTPFields = [.contentType: "application/json"]
            func events(_ stream: String) async throws -> [JSONValue] {
                let history = try await client.execute(uri: "/v1/streams/\(stream)", method: .get, headers: fixture.headers(.auditor))
                return history.json?["events"]?.arrayValue ?? []
            }
            for (t, type) in CatalogueSchema.types.enumerated() {
                var example = CatalogueSchema.example(type)
                if case .object(var members) = example {
                    members.removeAll { $0.key == "stream" }
                    example = .object(members)
                }
                for (r, role) in Role.allCases.enumerated() {
                    // Each pair on a case of its own, in every role's scope (coordinator 0042, Hjemmetjenesten);
                    // the coordinator types on coordinator-0042.
                    let stream: String
                    if type.stream == .case {
                        stream = "case-t\(t)r\(r)"
                        let opened = try await client.execute(uri: "/v1/streams/\(stream)/events", method: .post, headers: fixture.headers(.integration).merging(json),
                                                              body: ByteBuffer(string: try ServiceFixture.openCaseBody(person: person(t * 10 + r))))
                        #expect(opened.status == .created, "\(opened.text)")
                    } else {
                        stream = "coordinator-0042"
                    }
                    let before = try await events(stream).count
                    let response = try await client.execute(uri: "/v1/streams/\(stream)/events", method: .post,
                                                            headers: fixture.headers(role).merging(json), body: ByteBuffer(string: example.jsonText))
                    let code = response.status.code
                    let after = try await events(stream)
                    if Self.appends[role]!.contains(type.name) {
                        // Allowed: the rules decide (201, or 422 for a rule this example breaks), never the role or the scope.
                        #expect([201, 422].contains(code), "\(role) \(type.name): \(code) \(response.text)")
                        if code == 201 {
                            #expect(after.count == before + 1)
                            #expect(after.last?["actor"]?.stringValue == ServiceFixture.names[role], "\(role) \(type.name): the actor is the user")
                        }
                    } else {
                        #expect(code == 403, "\(role) \(type.name): \(code) \(response.text)")
                        #expect(after.count == before, "\(role) \(type.name): nothing written")
                    }
                }
            }
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var out = self
        for field in other { out[field.name] = field.value }
        return out
    }
}
