import Foundation
import LMDB
/// An append or read that the log itself refuses: a version conflict, an event id
/// reused for other content, a broken chain, an envelope that is not well formed,
/// a missing store.
///
/// A struct over a code rather than an enum, so that adding a code breaks no one.
public struct LogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable code; its raw value is what the CLI prints in brackets.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The stream is not at the version the append expected (exit 4).
        public static let versionConflict = Code(rawValue: "versionConflict")
        /// The event id is in the log already with another stream or content.
        public static let duplicateEventId = Code(rawValue: "duplicateEventId")
        /// The chain head kept in the store does not match the last event: the
        /// store is damaged and will not be extended until it is repaired.
        public static let chainBroken = Code(rawValue: "chainBroken")
        /// The envelope is malformed (stream id, type, actor, payload).
        public static let invalidShape = Code(rawValue: "invalidShape")
        /// The store directory holds no store, or one of an unknown format.
        public static let noStore = Code(rawValue: "noStore")
        /// The stream named has no events (exit 2).
        public static let unknownStream = Code(rawValue: "unknownStream")
        /// A stored record does not decode.
        public static let damaged = Code(rawValue: "damaged")
        /// No space for the store: the disk (or the quota, or the file size
        /// limit) is full. Nothing of the batch was written.
        public static let diskFull = Code(rawValue: "diskFull")
        /// The person at the terminal did not confirm (exit 1): nothing was done.
        public static let cancelled = Code(rawValue: "cancelled")
        /// Reading the input or writing the output failed (exit 1): the
        /// command stopped there.
        public static let ioError = Code(rawValue: "ioError")
        /// The batch is larger than one LMDB transaction can hold (`--atomic`).
        public static let batchTooLarge = Code(rawValue: "batchTooLarge")
    }

    public var code: Code
    /// Plain words, free of personal data.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "[\(code.rawValue)] \(message)" }
}

/// A batch append failed at one of its events; nothing of the batch was written
/// (``EventStore/importEvents(_:batchSize:atomic:policy:progress:)`` then commits
/// the events before it).
public struct AppendFailure: Error, CustomStringConvertible {
    /// The failing event's index in the batch (from 0).
    public var index: Int
    /// Why: a ``LogError``, or the error the ``AppendPolicy`` threw.
    public var error: any Error

    public init(index: Int, error: any Error) {
        self.index = index
        self.error = error
    }

    public var description: String { "event \(index + 1) of the batch: \(error)" }
}

extension LogError {
    /// A file that could not be read or written: `[diskFull]` for LMDB's and
    /// the system's no-space codes, else `[ioError]`, naming `what`.
    public static func file(_ code: Int32, _ what: String) -> LogError {
        let reason = String(cString: strerror(code))
        if LMDBError.noSpaceCodes.contains(code) { return LogError(.diskFull, "\(what): \(reason); free space and run the command again") }
        return LogError(.ioError, "\(what): \(reason)")
    }
}
