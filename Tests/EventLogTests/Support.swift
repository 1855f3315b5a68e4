import Foundation
import JSON
@testable import EventLog

/// A fresh directory for one test, removed when it ends.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

let day = BusinessDate(iso: "2026-03-14")!

func event(_ stream: String, _ n: Int = 0, expected: ExpectedVersion = .any, id: EventID = .random(), type: String = "MeetingHeld") -> ProposedEvent {
    ProposedEvent(stream: stream, type: type, eventID: id, occurredOn: day, actor: "coordinator-0001",
                  payload: .object(["meetingId": .string("m-\(n)"), "heldOn": .string("2026-03-14")]),
                  expectedVersion: expected)
}

/// A policy that refuses events whose payload has `"refuse": true`, counts
/// what it admitted in its state under the stream's name, and seals a `secret`
/// member under a new key (or the key in slot `"slot"`).
struct CountingPolicy: AppendPolicy {
    struct Refused: Error {}
    var pending: [[UInt8]: [UInt8]] = [:]

    mutating func beginBatch() { pending = [:] }

    mutating func admit(_ event: ProposedEvent, streamVersion: UInt64, log: LogView) throws -> Sealing? {
        if event.payload["refuse"] == .bool(true) { throw Refused() }
        let key = Array(event.stream.utf8)
        let current = try pending[key] ?? log.state(key) ?? [0]
        pending[key] = [current[0] &+ 1]
        guard event.payload["secret"] != nil else { return nil }
        if let slot = event.payload["slot"]?.int64Value, let existing = try log.personKey(UInt32(slot)) {
            return Sealing(fields: .members(["secret": .all]), slot: UInt32(slot), key: existing)
        }
        let (slot, newKey) = try log.newPersonKey()
        return Sealing(fields: .members(["secret": .all]), slot: slot, key: newKey)
    }

    mutating func endBatch() -> [(key: [UInt8], value: [UInt8]?)] { pending.map { ($0.key, $0.value) } }

    mutating func didCommit() {}
}
