import Domain
import EventLog
import Foundation
import JSON
import LMDB

/// The code, message and kind of an error, as the contract's refusals say: the
/// CLI turns the kind into an exit code, the service into an HTTP status.
public struct ErrorReport: Sendable, Hashable {
    /// What kind of answer an error is.
    public enum Kind: Sendable, Hashable {
        /// Malformed input: exit 2, HTTP 400.
        case badInput
        /// Refused by a rule (or an event id used for other content): exit 3, HTTP 422.
        case refused
        /// An expected-version conflict: exit 4, HTTP 409.
        case conflict
        /// No such case, or one outside the caller's scope: exit 2, HTTP 404.
        case notFound
        /// The caller's role may not do this: HTTP 403.
        case forbidden
        /// No identity, or a bad one: HTTP 401.
        case unauthenticated
        /// The store failed (disk full, damage, an internal error): exit 1, HTTP 500 or 503.
        case failure
    }

    public var code: String
    public var message: String
    public var kind: Kind
    /// The stream's version on a conflict (the service's `actual`).
    public var actualVersion: UInt64?

    public init(code: String, message: String, kind: Kind) {
        self.code = code
        self.message = message
        self.kind = kind
    }

    public init(_ error: any Error) {
        self = ErrorReport.describe(error)
    }

    private static func describe(_ error: any Error) -> ErrorReport {
        switch error {
        case let failure as AppendFailure:
            return describe(failure.error)
        case let failure as ImportFailure:
            return describe(failure.error)
        case let denial as AccessDenied:
            return ErrorReport(code: denial.code, message: denial.message, kind: denial.kind)
        case let error as LogError:
            let kind: Kind = switch error.code {
            case .invalidShape, .invalidDate, .invalidPersonId, .unknownPerson: .badInput
            case .unknownStream: .notFound
            case .versionConflict: .conflict
            case .duplicateEventId: .refused
            default: .failure
            }
            return ErrorReport(code: error.code.rawValue, message: error.message, kind: kind)
        case let refusal as Domain.Refusal:
            return ErrorReport(code: refusal.code.rawValue, message: refusal.message, kind: .refused)
        case let error as JSONSyntaxError:
            return ErrorReport(code: "invalidShape", message: "malformed JSON: \(error)", kind: .badInput)
        case let error as LMDBError where error.meansDiskFull:
            return ErrorReport(code: LogError.Code.diskFull.rawValue, message: "no space for the store (\(error.message)); free space and run the command again", kind: .failure)
        case let error as LMDBError where error.meansDamage:
            return ErrorReport(code: LogError.Code.damaged.rawValue, message: "the store is damaged (\(error.message)); run `iplog verify` and restore from a backup", kind: .failure)
        case let damage as StorageDamage:
            return ErrorReport(code: LogError.Code.damaged.rawValue, message: damage.message + "; restore the store from a backup", kind: .failure)
        case let error as CocoaError where (error.underlying as? POSIXError).map({ LMDBError.noSpaceCodes.contains($0.code.rawValue) }) ?? false:
            return ErrorReport(code: LogError.Code.diskFull.rawValue, message: "no space to write (\((error.underlying as? POSIXError)?.localizedDescription ?? "disk full")); free space and run the command again", kind: .failure)
        default:
            return ErrorReport(code: "internal", message: "\(error)", kind: .failure)
        }
    }
}

/// A request the caller may not make: no identity (401), a role that may not
/// (403), or a case outside their scope (404, worded as for a case that does
/// not exist, so that its existence is not told).
public struct AccessDenied: Error, Sendable, Hashable {
    public var kind: ErrorReport.Kind
    public var code: String
    public var message: String

    public static func unauthenticated(_ message: String) -> AccessDenied {
        AccessDenied(kind: .unauthenticated, code: "unauthenticated", message: message)
    }

    public static func forbidden(_ message: String) -> AccessDenied {
        AccessDenied(kind: .forbidden, code: "forbidden", message: message)
    }

    /// The answer for a case that does not exist and for one the caller may not see: the same words.
    public static func noCase(_ stream: String) -> AccessDenied {
        AccessDenied(kind: .notFound, code: LogError.Code.unknownStream.rawValue, message: "\(stream) is not a case in this store")
    }
}
