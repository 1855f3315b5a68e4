import AccessLog
import Domain
import EventLog
import Foundation

/// Erasure when retention ends (crypto-shredding): the use case behind
/// `iplog erase`. Recorded in the log before the key is destroyed, then in the
/// access log; an erasure cut short (killed, disk full) is finished by the next.
public struct Erasures: Sendable {
    public let store: EventStore
    public let access: AccessLog

    public init(store: EventStore, access: AccessLog) {
        self.store = store
        self.access = access
    }

    /// Erases `person`'s personal data in every case of theirs; the cases.
    /// The store's operator only (the service offers no erasure).
    public func erase(person: String, reason: String, caller: Caller) throws -> DomainPolicy.PendingErasure {
        guard caller.role == nil else { throw AccessDenied.forbidden("an erasure is the store operator's") }
        guard PersonID(person) != nil else { throw LogError(.invalidPersonId, "--person: not a valid fødselsnummer or D-nummer") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw LogError(.invalidShape, "--reason: must not be empty") }
        let accessKey = access.accessKey(forPerson: person)
        // Erasures cut short before their access-log record (killed, disk full) are finished first.
        let finished = try finishPending()
        if let done = try DomainPolicy.erase(person: person, in: store, actor: caller.name, reason: reason, accessKey: accessKey) {
            FaultPoint.reach("erase.beforeAccessLog")
            try recordAndFinish(done)
            return done
        }
        if let resumed = finished.last(where: { $0.accessKey == accessKey }) {
            return resumed  // this person's erasure was done; now it is recorded too
        }
        throw LogError(.unknownPerson, "the store holds no personal data of \(PersonID.mask(person)) (no case, or erased already)")
    }

    /// Writes an erasure's access-log entry (once), drops the person's index
    /// there, and forgets the pending record.
    func recordAndFinish(_ erasure: DomainPolicy.PendingErasure) throws {
        do {
            try access.record(actor: erasure.actor, command: "erase", subject: erasure.cases.joined(separator: " "),
                              reason: erasure.reason, persons: [String](), at: erasure.at, once: true)
            try access.forget(accessKey: erasure.accessKey)
        } catch let error as LogError where error.code == .diskFull {
            throw LogError(.diskFull, "the erasure is done and recorded in the log, but the access log has no room for its entry: "
                           + "free space and run `iplog erase` again, which writes it (\(error.message))")
        }
        try DomainPolicy.finishErasure(slot: erasure.slot, in: store)
    }

    /// Finishes every erasure whose access-log record is missing; returns them.
    func finishPending() throws -> [DomainPolicy.PendingErasure] {
        let pending = try DomainPolicy.pendingErasures(in: store)
        try store.finishKeyErasures()
        for erasure in pending { try recordAndFinish(erasure) }
        return pending
    }
}
