import Foundation
import JSON
import LMDB

/// What the store holds (statistics) and its backup.
extension EventStore {
    /// Counts and sizes (`iplog stats`).
    public struct Statistics: Sendable {
        public var events: Int
        public var streams: Int
        public var head: Head
        public var fileBytes: Int
        public var usedBytes: Int
        public var mapSize: Int
    }

    public func statistics() throws -> Statistics {
        let (eventCount, streamCount, head) = try environment.read { txn in
            var streams = 0
            try forEachStreamName(txn, prefix: "") { _ in streams += 1 }
            return (try txn.statistics(events).entries, streams, try readHead(txn))
        }
        let info = environment.info
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/log/data.mdb")
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        return Statistics(events: eventCount, streams: streamCount, head: head, fileBytes: size,
                          usedBytes: info.usedBytes, mapSize: info.mapSize)
    }

    /// Writes a consistent, compacted copy of the log to `directory`'s `log/`
    /// while appends go on.
    public func backup(to target: String) throws {
        let logTarget = target + "/log"
        try FileManager.default.createDirectory(atPath: logTarget, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(logTarget, 0o700)
        try Self.reportingFullDisk { try environment.copy(to: logTarget, flags: .compact) }
        try personKeys.copy(to: target)  // after the log: it holds every key the copy uses
    }
}
