import Application
import Domain
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Synchronization
import Testing

@Suite(.serialized) struct GroupCommitTests {
    final class Commits: Sendable {
        let sizes = Mutex<[Int]>([])
    }

    /// Three requests that arrive together share one transaction: the refused
    /// one is answered with its refusal and leaves the others committed, and
    /// the rules see the earlier requests' events of the same group.
    @Test func aRefusedRequestLeavesTheOthersOfItsGroupCommitted() async throws {
        let fixture = try ServiceFixture()
        let log = try EventStore(directory: fixture.store, create: false)
        let commits = Commits()
        let appends = try Appends(store: log, storePath: fixture.store) { events, _, _ in commits.sizes.withLock { $0.append(events) } }
        let office = Caller(name: "kontor", role: .caseOffice)
        let head = try log.head().position
        let application = try ServiceFixture.event("case-000010", "ApplicationReceived",
            #"{"personId":"\#(person())","receivedOn":"2026-11-02","requested":["individualPlan"],"origin":"application","unit":"Hjemmetjenesten"}"#)
        // Refused: an assessment of a case that has no application.
        let orphan = try ServiceFixture.event("case-000011", "AssessmentCompleted",
            #"{"completedOn":"2026-11-03","longTermNeed":true,"services":["a","b"],"residesInMunicipality":true,"wantsIndividualPlan":true}"#)
        // Accepted only because the first request's application commits before it.
        let assessment = try ServiceFixture.event("case-000010", "AssessmentCompleted",
            #"{"completedOn":"2026-11-03","longTermNeed":true,"services":["a","b"],"residesInMunicipality":true,"wantsIndividualPlan":true}"#)
        async let first = appends.append([application], caller: office)
        while appends.queued < 1 { try await Task.sleep(for: .milliseconds(5)) }
        async let second = appends.append([orphan], caller: office)
        while appends.queued < 2 { try await Task.sleep(for: .milliseconds(5)) }
        async let third = appends.append([assessment], caller: office)
        while appends.queued < 3 { try await Task.sleep(for: .milliseconds(5)) }
        appends.start()
        let a = try await first
        let refused: Result<[EventStore.Outcome], any Error>
        do { refused = .success(try await second) } catch { refused = .failure(error) }
        guard case .failure(let error) = refused, let failure = error as? AppendFailure else {
            Issue.record("the orphan assessment was not refused: \(refused)")
            return
        }
        #expect(ErrorReport(failure).kind == .refused)
        let c = try await third
        appends.stop()
        #expect(a[0].position == head + 1 && c[0].position == head + 2, "gapless, in arrival order")
        #expect(commits.sizes.withLock { $0 } == [2], "one commit for the group, without the refused request")
        #expect(try log.version(of: "case-000011") == 0)
    }

    /// Sixteen clients appending at once over HTTP: every append answered 201,
    /// the positions gapless, and fewer commits than events.
    @Test func concurrentClientsGetGaplessPositions() async throws {
        let fixture = try ServiceFixture()
        let head = try EventStore(directory: fixture.store, create: false).head().position
        try await fixture.withService { client in
            let positions = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for c in 0..<16 {
                    group.addTask {
                        var mine: [Int64] = []
                        for n in 0..<5 {
                            let body = #"{"type":"ApplicationReceived","data":{"personId":"\#(person(c * 5 + n))","receivedOn":"2026-11-02","requested":["individualPlan"],"origin":"application","unit":"Hjemmetjenesten"}}"#
                            let response = try await client.execute(uri: "/v1/streams/case-1\(c)\(n)/events", method: .post,
                                                                    headers: fixture.headers(.caseOffice).merging([.contentType: "application/json"]),
                                                                    body: ByteBuffer(string: body))
                            #expect(response.status == .created, "\(response.text)")
                            mine.append(response.json?["position"]?.int64Value ?? -1)
                        }
                        return mine
                    }
                }
                var all: [Int64] = []
                for try await some in group { all += some }
                return all.sorted()
            }
            #expect(positions == Array(Int64(head) + 1...Int64(head) + 80))
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.text.contains("iplog_commits_total"))
            #expect(metrics.text.contains("iplog_events_per_commit"))
            // The service's own commits carried exactly the 80 events, in no more commits than events.
            func value(_ name: String) -> Double? {
                metrics.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
            }
            #expect(value("iplog_events_per_commit_sum") == 80)
            #expect((value("iplog_events_per_commit_count") ?? 0) >= 1 && (value("iplog_events_per_commit_count") ?? 81) <= 80)
            #expect((value("iplog_store_bytes") ?? 0) > 0)
        }
    }

    /// An event id already in the log with the same content answers 200 with
    /// its position; the same id for other content is refused.
    @Test func aRetryWithTheSameEventIdIsAnsweredWithItsPosition() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let id = UUID().uuidString.lowercased()
            let body = #"{"type":"MeetingScheduled","eventId":"\#(id)","data":{"meetingId":"m-5","scheduledFor":"2026-12-20"}}"#
            let headers = fixture.headers(.coordinator).merging([.contentType: "application/json"])
            let first = try await client.execute(uri: "/v1/streams/case-000001/events", method: .post, headers: headers, body: ByteBuffer(string: body))
            let again = try await client.execute(uri: "/v1/streams/case-000001/events", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(first.status == .created && again.status == .ok)
            #expect(first.json?["position"] == again.json?["position"])
            let other = body.replacingOccurrences(of: "2026-12-20", with: "2026-12-21")
            let refused = try await client.execute(uri: "/v1/streams/case-000001/events", method: .post, headers: headers, body: ByteBuffer(string: other))
            #expect(refused.status == .unprocessableContent)
            #expect(refused.json?["error"]?["code"]?.stringValue == "duplicateEventId")
        }
    }

    /// A version conflict answers 409 with the stream's version.
    @Test func aVersionConflictNamesTheStreamsVersion() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let body = #"{"type":"MeetingScheduled","expectedVersion":2,"data":{"meetingId":"m-5","scheduledFor":"2026-12-20"}}"#
            let response = try await client.execute(uri: "/v1/streams/case-000001/events", method: .post,
                                                    headers: fixture.headers(.coordinator).merging([.contentType: "application/json"]), body: ByteBuffer(string: body))
            #expect(response.status == .conflict, "\(response.text)")
            #expect(response.json?["error"]?["code"]?.stringValue == "versionConflict")
            #expect(response.json?["error"]?["actual"]?.int64Value == 6)
        }
    }
}

