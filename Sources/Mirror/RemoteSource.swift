import Application
import AsyncHTTPClient
import Domain
import EventLog
import Foundation
import JSON
import NIOCore
import Synchronization

/// The log of a remote `iplog serve`, read through its feed (`GET /v1/events`,
/// an `integration` user's token) into a local standby store, which the
/// mirror then copies like any store.
///
/// The standby holds the same events at the same positions and versions, with
/// the same ids, dates, actors, data and recording times; its personal values
/// are sealed under keys of its own, so its hash chain is its own. A line whose
/// position is not the standby's next one stops the copy: the standby follows
/// one primary, from its first event.
public final class RemoteSource: Sendable {
    public let url: String
    private let token: String
    /// The primary's recording times, handed to the standby's clock in order.
    let recordedAt: RecordingClock
    /// Events a request asks for.
    static let page = 5_000

    public init(url: String, token: String) throws(MirrorError) {
        guard let u = URLComponents(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host?.isEmpty == false else {
            throw MirrorError(.badInput, "--from: not an http(s):// URL of an iplog service")
        }
        guard token.hasPrefix("iplog_") || token.split(separator: ".").count == 3 else {
            throw MirrorError(.badInput, "--token: not an iplog API token (iplog_…) or a JWT")
        }
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
        recordedAt = RecordingClock()
    }

    /// The standby store at `path` (made when missing), whose clock records the primary's times.
    public func openStandby(_ path: String) throws -> EventStore {
        let clock = recordedAt
        return try EventStore(directory: path, create: true, clock: { clock.next() })
    }

    /// Copies the primary's events after the standby's head into it; the number copied.
    func pull(into standby: EventStore, appends: Appends) async throws -> Int {
        var copied = 0
        while true {
            let head = try standby.head().position
            var request = HTTPClientRequest(url: "\(url)/v1/events?from=\(head + 1)&limit=\(Self.page)")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Accept", value: "application/x-ndjson")
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                body = try await response.body.collect(upTo: 512 << 20)
            } catch {
                throw MirrorError(.unreachable, "\(url): \(error)")
            }
            switch response.status.code {
            case 200: break
            case 401, 403:
                throw MirrorError(.sourceRefused, "\(url) refused the token (\(response.status.code)); the mirror needs an integration user's token")
            case 502, 503, 504:
                throw MirrorError(.unreachable, "\(url) answered \(response.status.code)")
            default:
                throw MirrorError(.failed, "\(url) answered \(response.status.code) to GET /v1/events")
            }
            let lines = Array(buffer: body).split(separator: UInt8(ascii: "\n"))
            if lines.isEmpty { return copied }
            var items: [ImportItem] = []
            var times: [Timestamp] = []
            for (i, line) in lines.enumerated() {
                let bytes = Array(line)
                let json = try JSONParser.parse(bytes)
                guard let position = json["position"]?.int64Value, position == Int64(head) + Int64(i) + 1 else {
                    throw MirrorError(.otherStore, "\(url) sent position \(json["position"]?.int64Value.map(String.init) ?? "none") where the standby's next is \(head + UInt64(i) + 1): this standby follows another log")
                }
                guard let text = json["recordedAt"]?.stringValue, let time = Timestamp(iso: text) else {
                    throw MirrorError(.failed, "\(url): the event at position \(position) has no recordedAt")
                }
                times.append(time)
                if let item = ImportItem.parse(line: Int(position), bytes, today: .today()) { items.append(item) }
            }
            recordedAt.load(times)
            let summary = try appends.importLines(items, batchSize: items.count, atomic: true, lenient: true, caller: .storeOperator("iplog-mirror"))
            recordedAt.load([])
            guard summary.skipped == 0, try standby.head().position == head + UInt64(lines.count) else {
                throw MirrorError(.otherStore, "\(url): \(summary.skipped) of its events were in the standby already: this standby follows another log")
            }
            copied += lines.count
            if lines.count < Self.page { return copied }
        }
    }
}

/// A clock that gives out queued times, one per call, then the system's.
final class RecordingClock: Sendable {
    private let queue = Mutex<(times: [Timestamp], next: Int)>(([], 0))

    func load(_ times: [Timestamp]) { queue.withLock { $0 = (times, 0) } }

    func next() -> Timestamp {
        queue.withLock { q in
            guard q.next < q.times.count else { return EventStore.systemClock() }
            defer { q.next += 1 }
            return q.times[q.next]
        }
    }
}
