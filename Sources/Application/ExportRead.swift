import CaseStatus
import Domain
import EventLog
import JSON
import ProjectionKit

extension Reads {
    /// The log as `iplog export` writes it (person ids in full, so that it
    /// imports again): one stream, or the whole log from a position, at most
    /// `limit` events. The read is in the access log, with every person whose
    /// application it holds, before `emit` sees the first event.
    /// - Parameter command: the access log's name for the read (`export`, or the service's `events`).
    public func export(stream: String?, from position: UInt64, limit: Int = .max, caller: Caller, reason: String?, command: String = "export",
                       _ emit: (RecordedEvent, JSONValue) throws -> Void) throws {
        try AccessRules.checkRead(.events, by: caller)
        let store = log
        let streamEvents = try stream.map { try store.read(stream: $0).filter { $0.position >= position }.prefix(limit) }
        func each(_ body: (RecordedEvent) throws -> Void) throws {
            if let streamEvents {
                for event in streamEvents { try body(event) }
                return
            }
            var count = 0
            try store.forEach(from: position) { event in
                guard count < limit else { return false }
                count += 1
                try body(event)
                return true
            }
        }
        // Who is in it, recorded before anything is shown.
        var persons: Set<String> = []
        var last: UInt64?
        try each { event in
            last = event.position
            if event.type == "ApplicationReceived", let person = PersonalData.personId(in: try event.payload(keys: store.personKeys)) { persons.insert(person) }
        }
        guard let last else { return }
        let subject = stream ?? (limit == .max ? "the whole log from position \(position)" : "positions \(position)–\(last)")
        try access().record(actor: caller.name, command: command, subject: subject, reason: reason,
                            persons: persons, personIdsShown: true)
        try each { event in
            guard event.position <= last else { return }
            // Shown in its type's current schema version (an older one upcast).
            var shown = event
            let payload: JSONValue
            (shown.schemaVersion, payload) = DomainEvent.upcast(type: event.type, schemaVersion: event.schemaVersion,
                                                                payload: try event.payload(keys: store.personKeys))
            try emit(event, Envelope.encode(shown, payload: payload))
        }
    }

    /// The yearly extract for the municipal patient and user register (KPR):
    /// full person ids, recorded in the access log before it is returned.
    public func registryExtract(year: Int, caller: Caller, reason: String?) throws -> [RegistryExtract.Row] {
        try AccessRules.checkRead(.caseList, by: caller)
        try AccessRules.checkShowPersonId(true, by: caller)
        let context = try self.context
        let cases = try context.views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "case-")
            .compactMap { stream, record in record.caseState.map { (stream, $0) } }
        let rows = try RegistryExtract.rows(year: year, cases: cases) { try PersonalData.personId(ofCase: $0, in: context.log) }
        try access().record(actor: caller.name, command: "registry-extract", subject: "year \(year)", reason: reason,
                            persons: rows.map(\.personId), personIdsShown: true)
        return rows
    }
}
