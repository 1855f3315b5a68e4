import Foundation
import JSON
import LMDB
import Testing
@testable import EventLog

struct AppendAndReadTests {
    @Test func positionsAndVersionsAreGapless() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            let first = try store.append([event("case-1", 1), event("case-2", 1), event("case-1", 2)], policy: &policy)
            #expect(first.map(\.position) == [1, 2, 3])
            #expect(first.map(\.version) == [1, 1, 2])
            let second = try store.append([event("case-2", 2), event("case-3", 1)], policy: &policy)
            #expect(second.map(\.position) == [4, 5])
            #expect(second.map(\.version) == [2, 1])
            let all = try store.read(from: 1, limit: 100)
            #expect(all.map(\.position) == [1, 2, 3, 4, 5])
            #expect(try store.version(of: "case-1") == 2)
            #expect(try store.version(of: "case-9") == 0)
            #expect(try store.head().position == 5)
            #expect(try store.streams(prefix: "case-").map(\.stream) == ["case-1", "case-2", "case-3"])
        }
    }

    @Test func readsStreamsAndTheLogFromAnyPoint() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            for i in 1...10 { try store.append([event("case-a", i), event("case-b", i)], policy: &policy) }
            let a = try store.read(stream: "case-a")
            #expect(a.map(\.version) == Array(1...10))
            #expect(a.map(\.position) == stride(from: 1, through: 19, by: 2).map(UInt64.init))
            #expect(try store.read(stream: "case-a", from: 7).map(\.version) == [7, 8, 9, 10])
            #expect(try store.read(stream: "case-a", from: 4, backwards: true).map(\.version) == [4, 3, 2, 1])
            #expect(try store.read(stream: "case-a", backwards: true, limit: 2).map(\.version) == [10, 9])
            #expect(try store.read(stream: "case-").isEmpty)  // a prefix of a stream id is not that stream
            #expect(try store.read(from: 15, limit: 3).map(\.position) == [15, 16, 17])
            var paged: [UInt64] = []
            try store.forEach(from: 4, pageSize: 3) { paged.append($0.position); return true }
            #expect(paged == Array(4...20))
            let e = try store.read(from: 2, limit: 1)[0]
            #expect(e.stream == "case-b" && e.type == "MeetingHeld" && e.actor == "coordinator-0001")
            #expect(e.occurredOn == day)
            #expect(try e.payload()["meetingId"] == .string("m-1"))
        }
    }

    /// `scan(stream:)` and `read(stream:)` look a stream's records up a few
    /// at a time before they read them: every event once, in order, from any
    /// version, none of another stream, and none past the one whose visit says
    /// stop (on either side of where a look-ahead ends).
    @Test func aStreamIsScannedInOrderAndStopsWhereAsked() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            let n = 2 * EventStore.recordsAhead + 5
            for i in 1...n { try store.append([event("case-a", i), event("case-ab", i)], policy: &policy) }
            func scanned(from version: UInt64 = 1, stopAt last: Int = .max) throws -> [UInt64] {
                var seen: [UInt64] = []
                try store.scan(stream: "case-a", from: version) { e in
                    #expect(e.stream == "case-a" && e.position == 2 * e.version - 1)
                    seen.append(e.version)
                    return seen.count < last
                }
                return seen
            }
            #expect(try scanned() == Array(1...UInt64(n)))
            #expect(try scanned(from: 20) == Array(20...UInt64(n)))
            for last in [1, EventStore.recordsAhead - 1, EventStore.recordsAhead, EventStore.recordsAhead + 1, n - 1] {
                #expect(try scanned(stopAt: last) == Array(1...UInt64(last)))
            }
            #expect(try scanned(from: UInt64(n) + 1).isEmpty)
            // The owned read looks ahead the same way.
            #expect(try store.read(stream: "case-a").map(\.position) == stride(from: 1, through: UInt64(2 * n - 1), by: 2).map { $0 })
            #expect(try store.read(stream: "case-a", from: 20, limit: 17).map(\.version) == Array(20...36))
            #expect(try store.read(stream: "case-a", backwards: true, limit: 18).map(\.version) == Array((UInt64(n) - 17...UInt64(n)).reversed()))
            var none = 0
            try store.scan(stream: "case-") { _ in none += 1; return true }
            #expect(none == 0)
        }
    }

    @Test func expectedVersionConflictsWriteNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            try store.append(event("case-1", expected: .noStream), policy: &policy)
            try store.append(event("case-1", expected: .exactly(1)), policy: &policy)
            for expected in [ExpectedVersion.noStream, .exactly(1), .exactly(3), .exactly(0)] {
                #expect {
                    try store.append(event("case-1", expected: expected), policy: &policy)
                } throws: { error in
                    ((error as? AppendFailure)?.error as? LogError)?.code == .versionConflict
                }
            }
            // Expected versions count the batch's own earlier events.
            try store.append([event("case-1", expected: .exactly(2)), event("case-1", expected: .exactly(3))], policy: &policy)
            #expect(try store.version(of: "case-1") == 4)
            #expect(try store.head().position == 4)
        }
    }

    @Test func anEventIDIsWrittenOnce() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            let id = EventID.random()
            let original = event("case-1", 1, id: id)
            let first = try store.append(original, policy: &policy)
            try store.append(event("case-1", 2), policy: &policy)
            let again = try store.append(original, policy: &policy)
            #expect(first.written && !again.written)
            #expect(again.position == first.position && again.version == 1)
            #expect(try store.head().position == 2)
            // The same id with other content, or on another stream, is refused.
            for other in [event("case-1", 9, id: id), event("case-2", 1, id: id)] {
                #expect {
                    try store.append(other, policy: &policy)
                } throws: { error in
                    ((error as? AppendFailure)?.error as? LogError)?.code == .duplicateEventId
                }
            }
            // Within one batch: the repeat answers with the first's position.
            let id2 = EventID.random()
            let outcomes = try store.append([event("case-3", 1, id: id2), event("case-3", 1, id: id2)], policy: &policy)
            #expect(outcomes.map(\.position) == [3, 3] && outcomes.map(\.written) == [true, false])
        }
    }

    @Test func aBatchWithOneBadEventWritesNothing() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()
            try store.append(event("case-1"), policy: &policy)
            var refused = event("case-2")
            refused.payload = .object(["refuse": .bool(true)])
            var badStream = event("case-2")
            badStream.stream = "no dash here"
            for (batch, index) in [([event("case-2"), event("case-3"), refused], 2),
                                   ([event("case-2"), event("case-1", expected: .exactly(5))], 1),
                                   ([event("case-2"), badStream], 1)] {
                #expect {
                    try store.append(batch, policy: &policy)
                } throws: { error in
                    (error as? AppendFailure)?.index == index
                }
                #expect(try store.head().position == 1)
                #expect(try store.version(of: "case-2") == 0)
            }
            #expect(try store.verify().ok)
        }
    }

    @Test func policyStateIsWrittenWithTheBatchAndReadBack() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = CountingPolicy()
            try store.append([event("case-1"), event("case-1")], policy: &policy)
            try store.append(event("case-1"), policy: &policy)
            var fresh = CountingPolicy()
            try store.append(event("case-1"), policy: &fresh)
            #expect(fresh.pending[Array("case-1".utf8)] == [4])
        }
    }

    @Test func aTinyMapGrowsUnderTheLog() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir, mapSize: 64 << 10, durable: false)
            var policy = AcceptAll()
            for batch in 0..<30 {
                try store.append((0..<100).map { event("case-\(batch)", $0) }, policy: &policy)
            }
            #expect(try store.head().position == 3000)
            #expect(try store.statistics().mapSize > 64 << 10)
            #expect(try store.verify().ok)
        }
    }

    @Test func aFollowerLearnsOfNewCommits() throws {
        try withTemporaryDirectory { dir in
            let store = try EventStore(directory: dir)
            var policy = AcceptAll()
            try store.append(event("case-1"), policy: &policy)
            let follower = LogFollower(store: store, after: 0)
            #expect(try follower.next().map(\.position) == [1])
            #expect(try !follower.waitForEvents(timeoutMilliseconds: 50))
            // A plain thread, not a task: the wait blocks its thread, and blocking
            // the cooperative pool could starve a writer task.
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                usleep(100_000)
                var p = AcceptAll()
                _ = try? store.append([event("case-2"), event("case-3")], policy: &p)
                done.signal()
            }
            #expect(try follower.waitForEvents(timeoutMilliseconds: 10_000))
            done.wait()
            #expect(try follower.next().map(\.position) == [2, 3])
            #expect(follower.position == 3)
        }
    }
}

struct EnvelopeTests {
    @Test func decodesTheContractsEnvelope() throws {
        let line = #"{"stream":"case-000123","type":"MeetingHeld","eventId":"5b0c7e2a-1d4e-4c1f-9b1a-0a2b3c4d5e6f","actor":"coordinator-0042","expectedVersion":3,"data":{"meetingId":"m-1","heldOn":"2026-03-14"}}"#
        let e = try Envelope.decode(try JSONParser.parse(line), today: BusinessDate(iso: "2026-11-23")!)
        #expect(e.stream == "case-000123" && e.type == "MeetingHeld" && e.actor == "coordinator-0042")
        #expect(e.eventID.description == "5b0c7e2a-1d4e-4c1f-9b1a-0a2b3c4d5e6f")
        #expect(e.occurredOn == BusinessDate(iso: "2026-03-14"))  // from heldOn
        #expect(e.expectedVersion == .exactly(3))
    }

    @Test func occurredOnDefaultsToToday() throws {
        let e = try Envelope.decode(try JSONParser.parse(#"{"stream":"case-1","type":"MeetingScheduled","data":{"scheduledFor":"2027-01-01"}}"#), today: BusinessDate(iso: "2026-11-23")!)
        #expect(e.occurredOn == BusinessDate(iso: "2026-11-23"))
    }

    @Test(arguments: [
        (#"{"type":"X","data":{}}"#, "invalidShape", "field stream"),
        (#"{"stream":"case-1","data":{}}"#, "invalidShape", "field type"),
        (#"{"stream":"case-1","type":"X"}"#, "invalidShape", "field data"),
        (#"{"stream":"case-1","type":"X","data":[]}"#, "invalidShape", "field data"),
        (#"{"stream":"case-1","type":"X","data":{},"eventId":"nope"}"#, "invalidShape", "field eventId"),
        (#"{"stream":"case-1","type":"X","data":{},"occurredOn":"2026-02-30"}"#, "invalidDate", "field occurredOn"),
        (#"{"stream":"case-1","type":"X","data":{},"occurredOn":"14.03.2026"}"#, "invalidShape", "field occurredOn"),
        (#"{"stream":"case-1","type":"X","data":{"heldOn":"2025-13-01"}}"#, "invalidDate", "field data.heldOn"),
        (#"{"stream":"case-1","type":"X","data":{},"expectedVersion":-1}"#, "invalidShape", "field expectedVersion"),
        (#"{"stream":"case 1","type":"X","data":{}}"#, "invalidShape", "field stream"),
        (#"{"stream":"case-1","type":"x y","data":{}}"#, "invalidShape", "field type"),
        (#"{"stream":"case-1","type":"X","data":{},"actor":7}"#, "invalidShape", "field actor"),
    ])
    func refusesAMalformedEnvelopeNamingTheField(line: String, code: String, field: String) throws {
        #expect {
            _ = try Envelope.decode(try JSONParser.parse(line), today: day)
        } throws: { error in
            guard let error = error as? LogError else { return false }
            return error.code.rawValue == code && error.message.hasPrefix(field)
        }
    }
}

struct BusinessDateTests {
    @Test(arguments: [
        ("2026-01-31", 1, "2026-02-28"), ("2024-01-31", 1, "2024-02-29"), ("2026-03-31", -1, "2026-02-28"),
        ("2026-11-30", 3, "2027-02-28"), ("2026-08-15", 6, "2027-02-15"), ("2000-02-29", 12, "2001-02-28"),
    ])
    func addsCalendarMonthsClampedToTheMonthsEnd(start: String, months: Int, expected: String) {
        #expect(BusinessDate(iso: start)!.adding(months: months).description == expected)
    }

    @Test func parsesOnlyDatesThatExist() {
        #expect(BusinessDate(iso: "2024-02-29") != nil)
        #expect(BusinessDate(iso: "2026-02-29") == nil)
        #expect(BusinessDate(iso: "1900-02-29") == nil)
        #expect(BusinessDate(iso: "2000-02-29") != nil)
        #expect(BusinessDate(iso: "2026-04-31") == nil)
        #expect(BusinessDate(iso: "2026-4-01") == nil)
        for malformed in ["", "2026-04-011", "2026-04-0", "2026/04/01", "20260-4-01", "+026-04-01", "2026-04-0a",
                          "2026-04-\u{0661}\u{0662}", "２０２６-04-01", "2026-04-01\n", " 2026-04-01", "2026-00-10", "2026-13-01", "2026-01-00"] {
            #expect(BusinessDate(iso: malformed) == nil, "\(malformed)")
        }
        #expect(BusinessDate(iso: "2026-04-01"[...]) == BusinessDate(year: 2026, month: 4, day: 1))
        #expect(BusinessDate(iso: "1970-01-01")!.daysSinceEpoch == 0)
        #expect(BusinessDate(iso: "1969-12-31")!.daysSinceEpoch == -1)
        for days in stride(from: -719_162, through: 2_932_896, by: 997) {
            let d = BusinessDate(daysSinceEpoch: Int32(days))
            #expect(BusinessDate(iso: d.description) == d)
        }
    }

    /// Today's date is Norway's, worked out without Foundation's time zones; it
    /// must agree with Foundation's Europe/Oslo around every local midnight and
    /// every change of the clock from 1996 to 2037 (the midnights fail if summer
    /// time starts or ends on another day, or is left out).
    @Test func norwaysDateAgreesWithTheOsloTimeZone() throws {
        let oslo = try #require(TimeZone(identifier: "Europe/Oslo"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = oslo
        func foundation(_ t: Int64) -> BusinessDate {
            let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: TimeInterval(t)))
            return BusinessDate(year: c.year!, month: c.month!, day: c.day!)!
        }
        let start = Int64(BusinessDate(iso: "1996-01-01")!.daysSinceEpoch) * 86_400
        let end = Int64(BusinessDate(iso: "2038-01-01")!.daysSinceEpoch) * 86_400
        var instants: [Int64] = []
        var transition = Date(timeIntervalSince1970: TimeInterval(start))
        while let next = oslo.nextDaylightSavingTimeTransition(after: transition), next.timeIntervalSince1970 < TimeInterval(end) {
            let t = Int64(next.timeIntervalSince1970)
            instants += [t - 3_601, t - 1, t, t + 1, t + 3_599]
            transition = next
        }
        #expect(instants.count == 42 * 2 * 5)
        for midnight in stride(from: start + 22 * 3_600, to: end, by: 86_400) {  // 23:00 or 24:00 in Oslo
            instants += [midnight - 1, midnight, midnight + 3_599, midnight + 3_600, midnight + 3_601]
        }
        for t in instants {
            #expect(BusinessDate.inNorway(secondsSince1970: t) == foundation(t), "at \(t)")
        }
    }

    @Test func formatsTimestampsInUTC() {
        #expect(Timestamp(microsecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(microsecondsSinceEpoch: 1_773_480_301_123_456).description == "2026-03-14T09:25:01.123456Z")
    }
}
