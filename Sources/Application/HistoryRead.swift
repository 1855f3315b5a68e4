import Domain
import EventLog
import JSON

extension Reads {
    /// One stream's audit replay: every event in order, with the case as it
    /// stood after it, each event's hash link checked.
    public struct History: Sendable {
        public struct Entry: Sendable {
            public var event: RecordedEvent
            /// The payload as shown: person ids masked unless shown; erased values read `[erased]`.
            public var data: JSONValue
            public var before: [JSONValue.Member]
            public var after: [JSONValue.Member]
            public var chainVerified: Bool
        }

        public var stream: String
        public var asOf: BusinessDate?
        public var entries: [Entry]
        /// The person's key has been erased: their personal values read `[erased]`.
        public var personalDataErased: Bool
        /// Positions whose hash link does not hold.
        public var failing: [UInt64]

        public var json: JSONValue {
            .object([
                "stream": .string(stream), "asOf": asOf.map { .string($0.description) } ?? .null,
                "chainVerified": .bool(failing.isEmpty), "personalDataErased": .bool(personalDataErased),
                "events": .array(entries.map { entry in
                    let event = entry.event
                    return .object([
                        "position": .integer(event.position), "version": .integer(event.version),
                        "type": .string(event.type), "occurredOn": .string(event.occurredOn.description),
                        "recordedAt": .string(event.recordedAt.description), "actor": event.actor.map(JSONValue.string) ?? .null,
                        "data": entry.data, "state": .object(entry.after), "hash": .string(event.hashHex),
                        "chainVerified": .bool(entry.chainVerified),
                    ])
                }),
            ])
        }
    }

    /// `history STREAM`: refused as not found when there is no such stream or
    /// it is a case outside the caller's scope. A coordinator stream is read by
    /// the roles that read every case.
    public func history(_ stream: String, asOf limit: BusinessDate?, caller: Caller, reason: String?, showPersonId: Bool) throws -> History {
        try AccessRules.checkRead(.history, by: caller)
        try AccessRules.checkShowPersonId(showPersonId, by: caller)
        let store = log
        guard try store.version(of: stream) > 0 else { throw AccessDenied.noCase(stream) }
        let isCase = StreamKind(stream: stream) != .coordinator
        if caller.role == .coordinator || caller.role == .unitManager {
            // Scoped roles: only a case within their scope as it stands now.
            guard isCase, AccessRules.mayRead(case: try DomainPolicy.keptState(of: stream, in: store), by: caller) else {
                throw AccessDenied.noCase(stream)
            }
        }
        let events = try store.read(stream: stream).filter { limit == nil || $0.occurredOn <= limit! }
        let keys = store.personKeys
        let persons = try events.filter { $0.type == "ApplicationReceived" }.compactMap { PersonalData.personId(in: try $0.payload(keys: keys)) }
        try access().record(actor: caller.name, command: "history", subject: stream, reason: reason, persons: persons, personIdsShown: showPersonId)
        let failing = try store.failingLinks(events.map(\.position))
        var caseState = CaseState()
        var coordinatorState = CoordinatorState()
        var personId: String?
        var before = isCase ? Summary.of(caseState, personId: nil, showPersonID: showPersonId) : Summary.of(coordinatorState)
        var entries: [History.Entry] = []
        var erased = false
        for event in events {
            erased = try erased || event.isErased(keys: keys)
            // Personal values opened, or [erased]; in the type's current schema version.
            let payload = DomainEvent.upcast(type: event.type, schemaVersion: event.schemaVersion, payload: try event.payload(keys: keys)).payload
            let decoded = try DomainEvent.decode(event)
            let after: [JSONValue.Member]
            if isCase {
                if event.type == "ApplicationReceived" { personId = payload["personId"]?.stringValue }
                caseState.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealed?.slot)
                after = Summary.of(caseState, personId: personId, showPersonID: showPersonId)
            } else {
                coordinatorState.apply(decoded)
                after = Summary.of(coordinatorState)
            }
            entries.append(History.Entry(event: event, data: showPersonId ? payload : Summary.maskingPersonIDs(payload), before: before,
                                         after: after, chainVerified: !failing.contains(event.position)))
            before = after
        }
        return History(stream: stream, asOf: limit, entries: entries, personalDataErased: erased, failing: failing.sorted())
    }
}
