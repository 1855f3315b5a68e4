import AccessLog
import Application
import Domain
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Testing

@Suite(.serialized) struct ScopeAndAccessTests {
    static func post(_ client: any TestClientProtocol, _ fixture: ServiceFixture, _ role: Role, _ stream: String, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: "/v1/streams/\(stream)/events", method: .post,
                                 headers: fixture.headers(role).merging([.contentType: "application/json"]), body: ByteBuffer(string: body))
    }

    static let meeting = #"{"type":"MeetingScheduled","data":{"meetingId":"m-9","scheduledFor":"2026-12-20"}}"#

    /// A coordinator reads and appends to the cases where they are active,
    /// from the moment an appointment commits until a release does; another
    /// case answers 404, as one that does not exist.
    @Test func theCoordinatorsScopeFollowsAppointmentAndRelease() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let k42 = fixture.headers(.coordinator)
            #expect(try await client.execute(uri: "/v1/cases/case-000001", method: .get, headers: k42).status == .ok)
            let other = try await client.execute(uri: "/v1/cases/case-000002", method: .get, headers: k42)
            let missing = try await client.execute(uri: "/v1/cases/case-999999", method: .get, headers: k42)
            #expect(other.status == .notFound && missing.status == .notFound)
            #expect(other.json?["error"]?["message"]?.stringValue?.contains("case-000002 is not a case") == true, "the same words as for a case that does not exist")
            #expect(try await client.execute(uri: "/v1/streams/case-000002", method: .get, headers: k42).status == .notFound)
            #expect(try await Self.post(client, fixture, .coordinator, "case-000002", Self.meeting).status == .notFound)
            let list = try await client.execute(uri: "/v1/cases", method: .get, headers: k42)
            #expect(list.json?["cases"]?.arrayValue?.compactMap { $0["stream"]?.stringValue } == ["case-000001"])

            // Released: the case is gone for them at once.
            let release = try await Self.post(client, fixture, .coordinatingUnit, "case-000001",
                                              #"{"type":"CoordinatorReleased","data":{"coordinatorId":"0042","releasedOn":"2026-12-01","reason":"permisjon"}}"#)
            #expect(release.status == .created, "\(release.text)")
            #expect(try await client.execute(uri: "/v1/cases/case-000001", method: .get, headers: k42).status == .notFound)
            #expect(try await Self.post(client, fixture, .coordinator, "case-000001", Self.meeting).status == .notFound)

            // Appointed to case-000002 (once 0043 is released): theirs from that event on.
            let released = try await Self.post(client, fixture, .coordinatingUnit, "case-000002",
                                               #"{"type":"CoordinatorReleased","data":{"coordinatorId":"0043","releasedOn":"2026-12-01","reason":"sluttet"}}"#)
            #expect(released.status == .created, "\(released.text)")
            let appoint = try await Self.post(client, fixture, .coordinatingUnit, "case-000002",
                                              #"{"type":"CoordinatorAppointed","data":{"coordinatorId":"0042","appointedOn":"2026-12-02"}}"#)
            #expect(appoint.status == .created, "\(appoint.text)")
            #expect(try await client.execute(uri: "/v1/cases/case-000002", method: .get, headers: k42).status == .ok)
            let scheduled = try await Self.post(client, fixture, .coordinator, "case-000002", Self.meeting)
            #expect(scheduled.status == .created, "\(scheduled.text)")
        }
    }

    /// A unit manager reads their unit's reports and case list without person
    /// ids, and may not ask for another unit's or for person ids.
    @Test func aUnitManagerSeesTheirUnitWithoutPersonIds() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let leader = fixture.headers(.unitManager)
            let list = try await client.execute(uri: "/v1/cases", method: .get, headers: leader)
            let cases = try #require(list.json?["cases"]?.arrayValue)
            #expect(cases.compactMap { $0["stream"]?.stringValue } == ["case-000001"])
            #expect(cases.allSatisfy { $0["personId"] == .null })
            #expect(!list.text.contains(ServiceFixture.adult.prefix(6)), "not even the birth date")
            #expect(try await client.execute(uri: "/v1/cases?unit=Rehabilitering", method: .get, headers: leader).status == .forbidden)
            #expect(try await client.execute(uri: "/v1/cases?showPersonId=true", method: .get, headers: leader).status == .forbidden)
            #expect(try await client.execute(uri: "/v1/reports/deviations?unit=Rehabilitering", method: .get, headers: leader).status == .forbidden)
            let workload = try await client.execute(uri: "/v1/reports/workload", method: .get, headers: leader)
            #expect(workload.json?["coordinators"]?.arrayValue?.compactMap { $0["coordinatorId"]?.stringValue } == ["0042"])
            // Their unit's cases only: a deviation on the other unit's case is not theirs to report.
            let other = try await Self.post(client, fixture, .unitManager, "case-000002",
                                            #"{"type":"DeviationReported","data":{"deviationId":"d-1","reportedOn":"2026-12-01","category":"taushetsplikt","description":"x"}}"#)
            #expect(other.status == .notFound)
            let own = try await Self.post(client, fixture, .unitManager, "case-000001",
                                          #"{"type":"DeviationReported","data":{"deviationId":"d-1","reportedOn":"2026-12-01","category":"taushetsplikt","description":"x"}}"#)
            #expect(own.status == .created, "\(own.text)")
        }
    }

    /// Every read of a person's data through the service is in the access
    /// log under the authenticated user's name, whatever the request says.
    @Test func theAccessLogHoldsTheAuthenticatedUserForEveryReadPath() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let paths: [(Role, String, String)] = [
                (.caseOffice, "/v1/cases/case-000001?reason=klage", "case"),
                (.auditor, "/v1/streams/case-000001?actor=someone-else", "history"),
                (.coordinatingUnit, "/v1/cases?showPersonId=true", "cases"),
                (.integration, "/v1/events?from=1&limit=100", "events"),
            ]
            for (role, path, command) in paths {
                let before = try await fixture.reads(of: ServiceFixture.adult, client).count
                let response = try await client.execute(uri: path, method: .get, headers: fixture.headers(role))
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                // The auditor's own reading of the access log is not a read of the person's data.
                let entries = try await fixture.reads(of: ServiceFixture.adult, client)
                #expect(entries.count == before + 1, "\(path)")
                #expect(entries.last?.actor == ServiceFixture.names[role], "\(path)")
                #expect(entries.last?.command == command)
            }
            #expect(try await fixture.reads(of: ServiceFixture.adult, client).first?.reason == "klage")
            // Person ids: masked unless asked for and allowed.
            let masked = try await client.execute(uri: "/v1/cases/case-000001", method: .get, headers: fixture.headers(.caseOffice))
            #expect(masked.json?["personId"]?.stringValue == ServiceFixture.adult.prefix(6) + "*****")
            let shown = try await client.execute(uri: "/v1/cases/case-000001?showPersonId=true", method: .get, headers: fixture.headers(.caseOffice))
            #expect(shown.json?["personId"]?.stringValue == ServiceFixture.adult)
        }
    }

    /// The recorded actor is the caller's name, whatever the body says.
    @Test func theBodyCannotChooseTheActor() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let response = try await Self.post(client, fixture, .coordinator, "case-000001",
                                               #"{"type":"MeetingScheduled","actor":"someone-else","data":{"meetingId":"m-1","scheduledFor":"2026-12-20"}}"#)
            #expect(response.status == .created, "\(response.text)")
            let history = try await client.execute(uri: "/v1/streams/case-000001", method: .get, headers: fixture.headers(.auditor))
            #expect(history.json?["events"]?.arrayValue?.last?["actor"]?.stringValue == "k42")
        }
    }
}
