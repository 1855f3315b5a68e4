import EventLog
import JSON
import Testing
@testable import Domain

struct CatalogueTests {
    @Test func aStoredTypeNameIsFoundFromItsBytesAndNothingElseIs() {
        for kind in DomainEvent.Kind.allCases {
            #expect(Array(kind.rawValue.utf8).withUnsafeBytes { DomainEvent.Kind.named(utf8: $0) } == kind)
            // The same length, first and last bytes, another middle: not a type.
            var near = Array(kind.rawValue.utf8)
            near[near.count / 2] ^= 0x20
            #expect(near.withUnsafeBytes { DomainEvent.Kind.named(utf8: $0) } == nil, "\(kind)")
        }
        for name in ["", "Meeting", "MeetingHeldX", "meetingHeld"] {
            #expect(Array(name.utf8).withUnsafeBytes { DomainEvent.Kind.named(utf8: $0) } == nil)
        }
    }

    /// Each kind's declaration is its own type's (a copied conformance left
    /// naming another kind would give the type another's facts).
    @Test func eachKindIsDeclaredByItsOwnType() throws {
        for kind in DomainEvent.Kind.allCases {
            #expect(kind.declaration.kind == kind, "\(kind)")
            #expect(try decode(kind.rawValue).kind == kind)
        }
    }

    @Test func theCatalogueHas31Types() {
        #expect(DomainEvent.allTypes.count == 31)
        #expect(Set(validPayloads.keys) == Set(DomainEvent.allTypes))
    }

    @Test(arguments: DomainEvent.allTypes)
    func aValidPayloadRoundTripsThroughTheStoreUnchanged(type: String) throws {
        try withStore { store in
            let stream = DomainEvent.coordinatorTypes.contains(type) ? "coordinator-0001" : "case-000001"
            let proposed = try Catalogue.validate(ProposedEvent(stream: stream, type: type, occurredOn: today, payload: payload(type)))
            var accept = AcceptAll()  // the rules are not the point here
            try store.append(proposed, policy: &accept)
            let stored = try store.read(stream: stream)[0]
            #expect(stored.type == type && stored.schemaVersion == (type == "AppealDecided" ? 2 : 1))
            #expect(try PackedJSON.decode(PackedJSON.encode(stored.payload())) == PackedJSON.decode(PackedJSON.encode(payload(type))))
            #expect(try DomainEvent.decode(type: type, payload: stored.payload()).event == decode(type))
        }
    }

    /// The personal values are sealed where the JSON has them: every member a
    /// type's sealing spec names is a field of the catalogue's payload (a spec
    /// shaped after the Swift struct rather than the JSON, `{"goal":
    /// {"description"}}` for GoalAdded's flat `description`, sealed nothing).
    @Test(arguments: DomainEvent.allTypes)
    func theSealingSpecNamesFieldsThePayloadHas(type: String) throws {
        guard let spec = DomainEvent.sealedFields(of: type) else { return }
        let fields = try #require(CatalogueSchema.types.first { $0.name == type }).fields
        func leaves(_ spec: SealedFields, _ path: [String]) -> [[String]] {
            switch spec {
            case .all: [path]
            case .members(let named): named.flatMap { leaves($0.value, path + [$0.key]) }
            }
        }
        func has(_ fields: [CatalogueSchema.Field], _ path: ArraySlice<String>) -> Bool {
            guard let key = path.first, let field = fields.first(where: { $0.name == key }) else { return false }
            if path.count == 1 { return true }
            if case .objects(let inner) = field.kind { return has(inner, path.dropFirst()) }
            return false
        }
        for path in leaves(spec, []) {
            #expect(has(fields, path[...]), "\(type): the spec seals \(path.joined(separator: ".")), which the payload does not have")
        }
    }

    /// `verify`'s scan for personal values in the clear: a GoalAdded written
    /// without sealing (as before 0.10) is found; the same written sealed, and
    /// events with nothing personal, are not.
    @Test func personalValuesInTheClearAreFound() throws {
        try withStore { store in
            var accept = AcceptAll()  // seals nothing, as the old spec did for these types
            for type in ["GoalAdded", "MeasureAdded", "GoalAchieved", "MeetingScheduled"] {
                try store.append(try Catalogue.validate(ProposedEvent(stream: "case-000001", type: type, occurredOn: today, payload: payload(type))), policy: &accept)
            }
            let found = try PersonalData.clearValues(in: store)
            #expect(found.byType == ["GoalAdded": 1, "MeasureAdded": 1])
            #expect(found.positions == [1, 2])
            // Sealed values read as empty strings: not in the clear.
            #expect(!PersonalData.hasClearValue(try JSONParser.parse(Array(#"{"goalId":"g-1","description":"","horizon":"short"}"#.utf8)),
                                                DomainEvent.sealedFields(of: "GoalAdded")!))
        }
    }

    /// Every required field of every type: without it, the event is refused naming it.
    @Test(arguments: DomainEvent.allTypes)
    func aMissingRequiredFieldIsRefusedNamingIt(type: String) throws {
        guard case .object(let members) = payload(type) else { return }
        let optional: Set<String> = ["nextEvaluationDue", "externalRef"]
        for member in members where !optional.contains(member.key) {
            let without = JSONValue.object(members.filter { $0.key != member.key })
            #expect {
                _ = try DomainEvent.decode(type: type, payload: without)
            } throws: { error in
                (error as? LogError)?.code == .invalidShape && (error as? LogError)?.message == "field data.\(member.key): missing"
            }
        }
    }

    @Test(arguments: [
        ("ApplicationReceived", "origin", JSONValue.string("telefon"), "invalidShape", "field data.origin: one of application, needReported, ownInitiative expected"),
        ("ApplicationReceived", "requested", ["individualPlan", "bolig"], "invalidShape", "field data.requested[1]: one of"),
        ("ApplicationReceived", "requested", [], "invalidShape", "field data.requested: must not be empty"),
        ("ApplicationReceived", "personId", "14038512345", "invalidPersonId", "field data.personId: not a valid"),
        ("ApplicationReceived", "receivedOn", "2026-02-30", "invalidDate", "field data.receivedOn: the date 2026-02-30 does not exist"),
        ("ApplicationReceived", "receivedOn", "5. januar", "invalidShape", "field data.receivedOn: a date (YYYY-MM-DD) expected"),
        ("DecisionMade", "coordinator", "ja", "invalidShape", "field data.coordinator: one of granted, denied, notRequested expected"),
        ("DecisionSent", "appealInformationIncluded", "yes", "invalidShape", "field data.appealInformationIncluded: true or false expected"),
        ("ConsentGiven", "scope", ["coordinator", "coordinator"], "invalidShape", "field data.scope[1]: coordinator is listed twice"),
        ("ConsentGiven", "givenBy", "nabo", "invalidShape", "field data.givenBy: one of"),
        ("AppealDecided", "outcome", "maybe", "invalidShape", "field data.outcome: one of confirmed, reversed, partlyReversed, quashed, dismissed, withdrawn expected"),
        ("PlanClosed", "reason", .number("3"), "invalidShape", "field data.reason: one of"),
        ("MeetingHeld", "attendees", "alle", "invalidShape", "field data.attendees: a list expected"),
        ("MeetingHeld", "actionItems", [.object(["itemId": "a-1"])], "invalidShape", "field data.actionItems[0].description: missing"),
        ("PlanEstablished", "goals", [.object(["goalId": "g", "description": "x", "horizon": "middle"])], "invalidShape", "field data.goals[0].horizon: one of short, long expected"),
        ("GroupMemberAdded", "memberId", "", "invalidShape", "field data.memberId: must not be empty"),
        ("AssessmentCompleted", "longTermNeed", .null, "invalidShape", "field data.longTermNeed: missing"),
    ] as [(String, String, JSONValue, String, String)])
    func aWrongValueIsRefusedNamingTheField(type: String, field: String, value: JSONValue, code: String, message: String) throws {
        guard case .object(var members) = payload(type) else { return }
        members = members.map { $0.key == field ? .init(field, value) : $0 }
        #expect {
            _ = try DomainEvent.decode(type: type, payload: .object(members))
        } throws: { error in
            guard let error = error as? LogError else { return false }
            return error.code.rawValue == code && error.message.hasPrefix(message)
        }
    }

    /// A field the catalogue does not know is refused, at any depth, naming
    /// it, with the known field it is closest to: a misspelt optional field
    /// would otherwise vanish and leave a deviation no one understands.
    @Test(arguments: [
        ("DecisionSent", #"{"sentOn":"2026-02-02","channel":"post","appealInformationIncluded":true,"note":"Ringte bruker"}"#,
         "field data.note: not a field of the catalogue", nil),
        ("PlanEstablished", #"{"establishedOn":"2026-03-05","goals":[],"measures":[],"nextEvaluationDate":"2026-09-05"}"#,
         "field data.nextEvaluationDate: not a field of the catalogue", "nextEvaluationDue"),
        ("MeetingHeld", #"{"meetingId":"m-1","heldOn":"2026-03-01","attendees":[],"minutesWritten":true,"actionItems":[{"itemId":"a-1","description":"d","responsible":"r","dueDate":"2026-04-01","dueOn":"2026-04-01"}]}"#,
         "field data.actionItems[0].dueDate: not a field of the catalogue", "dueOn"),
        ("PlanEstablished", #"{"establishedOn":"2026-03-05","goals":[{"goalId":"g-1","description":"d","horizon":"long","Horizon":"short"}],"measures":[]}"#,
         "field data.goals[0].Horizon: not a field of the catalogue", "horizon"),
    ])
    func unknownFieldsAreRefusedNamingThem(type: String, json: String, message: String, suggestion: String?) throws {
        #expect {
            _ = try Catalogue.validate(ProposedEvent(stream: "case-000001", type: type, occurredOn: today, payload: try JSONParser.parse(json)))
        } throws: { error in
            guard let error = error as? LogError, error.code == .invalidShape, error.message.hasPrefix(message) else { return false }
            return suggestion.map { error.message.contains("did you mean `\($0)`?") } ?? !error.message.contains("did you mean")
        }
    }

    /// The envelope too: a misspelt `eventID` is refused (an import run twice would
    /// otherwise write every event twice); the four fields `export` adds are read.
    @Test func unknownEnvelopeFieldsAreRefusedButExportsFieldsAreRead() throws {
        let data = validPayloads["DecisionSent"]!
        let misspelt = #"{"stream":"case-000001","type":"DecisionSent","eventID":"5b0c7e2a-1d4e-4c1f-9b1a-0a2b3c4d5e6f","data":\#(data)}"#
        #expect {
            _ = try Envelope.decode(try JSONParser.parse(misspelt), today: today)
        } throws: { error in
            (error as? LogError)?.message == "field eventID: not a field of the catalogue (did you mean `eventId`?)"
        }
        let exported = #"{"stream":"case-000001","type":"DecisionSent","eventId":"5b0c7e2a-1d4e-4c1f-9b1a-0a2b3c4d5e6f","data":\#(data),"position":7,"version":3,"recordedAt":"2026-02-02T10:00:00Z","hash":"ab"}"#
        #expect(try Envelope.decode(try JSONParser.parse(exported), today: today).eventID.description == "5b0c7e2a-1d4e-4c1f-9b1a-0a2b3c4d5e6f")
    }

    /// One refusal names every wrong field of the line, in the catalogue's
    /// order, nested ones included (one event took seven tries before).
    @Test func everyWrongFieldIsNamedAtOnce() throws {
        let line = #"{"stream":"case-000001","type":"ApplicationReceived","data":{"receivedOn":"2026-13-01","requested":[],"origin":"walkin","unitt":"U"}}"#
        #expect {
            _ = try Catalogue.validate(try Envelope.decode(try JSONParser.parse(line), today: today, dateField: DomainEvent.dateField, catalogueChecksDates: true))
        } throws: { error in
            guard let error = error as? LogError, error.code == .invalidShape else { return false }
            let fields = error.message.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? "" }
            return fields == ["field data.personId", "field data.receivedOn", "field data.requested", "field data.origin", "field data.unit", "field data.unitt"]
        }
        let nested = #"{"meetingId":"m","heldOn":"2026-01-01","attendees":[],"minutesWritten":"yes","actionItems":[{"itemId":"a"},{"itemId":"b","description":"d","responsible":"r","dueOn":"x","extra":1}]}"#
        #expect {
            _ = try DomainEvent.decode(type: "MeetingHeld", payload: try JSONParser.parse(nested))
        } throws: { error in
            (error as? LogError)?.message.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).split(separator: ":").first.map(String.init) ?? "" }
                == ["field data.minutesWritten", "field data.actionItems[0].description", "field data.actionItems[0].responsible",
                    "field data.actionItems[0].dueOn", "field data.actionItems[1].dueOn", "field data.actionItems[1].extra"]
        }
        // One wrong field reads as before.
        #expect {
            _ = try DomainEvent.decode(type: "DecisionSent", payload: try JSONParser.parse(#"{"sentOn":"2026-02-02","channel":"fax","appealInformationIncluded":true}"#))
        } throws: { error in
            (error as? LogError)?.message == "field data.channel: one of digital, post expected"
        }
    }

    @Test func theCanonicalPayloadIsTheFieldsInTheCatalogue() throws {
        let validated = try Catalogue.validate(ProposedEvent(stream: "case-1", type: "DecisionSent", occurredOn: today, payload: payload("DecisionSent")))
        #expect(validated.payload["sentOn"] == "2026-02-02")
    }

    @Test func eventsBelongInTheirKindOfStream() {
        for (stream, type) in [("coordinator-0001", "MeetingHeld"), ("case-000001", "CoordinatorTrained"), ("client-1", "MeetingHeld")] {
            #expect {
                _ = try Catalogue.validate(ProposedEvent(stream: stream, type: type, occurredOn: today, payload: payload(type)))
            } throws: { error in
                (error as? LogError)?.code == .invalidShape && (error as? LogError)?.message.hasPrefix("field stream:") == true
            }
        }
        #expect {
            _ = try Catalogue.validate(ProposedEvent(stream: "coordinator-0002", type: "CoordinatorRegistered", occurredOn: today, payload: payload("CoordinatorRegistered")))
        } throws: { error in
            (error as? LogError)?.message.hasPrefix("field data.coordinatorId") == true
        }
        #expect {
            _ = try Catalogue.validate(ProposedEvent(stream: "case-1", type: "MeetingHold", occurredOn: today, payload: payload("MeetingHeld")))
        } throws: { error in
            (error as? LogError)?.message.hasPrefix("field type:") == true
        }
    }

    @Test func everyTypeWithAnOwnDateNamesItsField() throws {
        for type in DomainEvent.allTypes {
            let field = DomainEvent.dateField(of: type)
            let own = try decode(type).ownDates.map(\.field)
            #expect(try decode(type).ownDate == decode(type).ownDates.first?.date, "\(type): ownDate is the first of ownDates")
            if type == "MeetingScheduled" || type == "TransitionPlanned" {
                #expect(field == nil && own.isEmpty)
            } else {
                #expect(own == [field!], "\(type)")
            }
        }
    }
}

/// The checked event carries the catalogue's typed event to the policy; a
/// payload changed after the check must be decoded again, or the rules would
/// judge the payload that was checked instead of the one stored.
struct CheckedEventTests {
    func application(_ stream: String, person: String) -> JSONValue {
        try! JSONParser.parse(#"{"personId":"\#(person)","receivedOn":"2026-01-05","requested":["individualPlan"],"origin":"application","unit":"Hjemmetjenesten"}"#)
    }

    @Test func aPayloadChangedAfterTheCheckIsJudgedAsItIsNow() throws {
        let first = validID("140385", individualFrom: 0), second = validID("020490", individualFrom: 100)
        try withStore { store in
            var policy = DomainPolicy(today: today)
            try store.append(try Catalogue.validate(ProposedEvent(stream: "case-000001", type: "ApplicationReceived",
                                                                  occurredOn: d("2026-01-05"), payload: application("case-000001", person: first))),
                             policy: &policy)
            var changed = try Catalogue.validate(ProposedEvent(stream: "case-000002", type: "ApplicationReceived",
                                                               occurredOn: d("2026-01-05"), payload: application("case-000002", person: second)))
            #expect(changed.checked is DomainEvent)
            changed.payload = application("case-000002", person: first)  // the first person's case is still open
            #expect(changed.checked == nil)
            #expect {
                try store.append(changed, policy: &policy)
            } throws: { error in
                ((error as? AppendFailure)?.error as? Refusal)?.code.rawValue == "personHasOpenCase"
            }
        }
    }

    @Test func changingTheTypeOrSchemaForgetsTheCheck() throws {
        let checked = try Catalogue.validate(ProposedEvent(stream: "case-000001", type: "ApplicationReceived", occurredOn: today,
                                                           payload: application("case-000001", person: validID("140385", individualFrom: 0))))
        var retyped = checked
        retyped.type = "ConsentGiven"
        #expect(retyped.checked == nil)
        var reschemed = checked
        reschemed.schemaVersion = 0
        #expect(reschemed.checked == nil)
        #expect(checked.checked != nil)
    }
}

/// Schema version 2 of `AppealDecided` (DOMAIN.md): `confirmed` for version 1's
/// `upheld`, and `quashed`, `dismissed`, `withdrawn`.
struct AppealDecidedVersionTests {
    func appeal(_ outcome: String) -> JSONValue {
        .object(["decidedOn": "2026-04-01", "decidedBy": "countyGovernor", "outcome": .string(outcome)])
    }

    @Test func upheldOnInputIsStoredAsConfirmedInVersionTwo() throws {
        try withStore { store in
            let checked = try Catalogue.validate(ProposedEvent(stream: "case-000001", type: "AppealDecided", occurredOn: today, payload: appeal("upheld")))
            #expect(checked.schemaVersion == 2 && checked.payload["outcome"] == "confirmed")
            var accept = AcceptAll()
            try store.append(checked, policy: &accept)
            let stored = try store.read(stream: "case-000001")[0]
            let payload = try stored.payload()
            #expect(stored.schemaVersion == 2 && payload["outcome"] == "confirmed")
            for outcome in ["confirmed", "reversed", "partlyReversed", "quashed", "dismissed", "withdrawn"] {
                let event = try Catalogue.validate(ProposedEvent(stream: "case-000001", type: "AppealDecided", occurredOn: today, payload: appeal(outcome)))
                #expect(event.payload["outcome"] == .string(outcome))
            }
        }
    }

    @Test func aVersionOneEventInTheLogIsReadAndShownAsVersionTwo() throws {
        try withStore { store in
            // Written as a store before the change wrote it: version 1, `upheld`.
            var accept = AcceptAll()
            try store.append(ProposedEvent(stream: "case-000001", type: "AppealDecided", schemaVersion: 1, occurredOn: today, payload: appeal("upheld")), policy: &accept)
            let stored = try store.read(stream: "case-000001")[0]
            let payload = try stored.payload()
            #expect(stored.schemaVersion == 1 && payload["outcome"] == "upheld")  // the log is never rewritten
            guard case .appealDecided(let e) = try DomainEvent.decode(stored) else { Issue.record("not an AppealDecided"); return }
            #expect(e.outcome == .confirmed)
            try store.scan(stream: "case-000001") { lent in
                guard case .appealDecided(let e) = try DomainEvent.decode(lent) else { Issue.record("not an AppealDecided"); return false }
                #expect(e.outcome == .confirmed)
                return true
            }
            let shown = DomainEvent.upcast(type: stored.type, schemaVersion: stored.schemaVersion, payload: try stored.payload())
            #expect(shown.schemaVersion == 2 && shown.payload["outcome"] == "confirmed" && shown.payload["decidedOn"] == "2026-04-01")
            // Version 2 is shown as it is; another type is at version 1.
            #expect(DomainEvent.upcast(type: "AppealDecided", schemaVersion: 2, payload: appeal("quashed")).payload == appeal("quashed"))
            #expect(DomainEvent.upcast(type: "PlanClosed", schemaVersion: 1, payload: .object([])).schemaVersion == 1)
        }
    }

    @Test func aSchemaVersionTheTypeDoesNotHaveIsRefused() throws {
        for (type, version, message) in [("AppealDecided", 3, "field schemaVersion: AppealDecided has schema versions 1 to 2"),
                                         ("PlanClosed", 2, "field schemaVersion: PlanClosed has schema version 1")] {
            #expect {
                var event = ProposedEvent(stream: "case-000001", type: type, occurredOn: today, payload: payload(type))
                event.schemaVersion = UInt16(version)
                _ = try Catalogue.validate(event)
            } throws: { error in
                (error as? LogError)?.message == message
            }
        }
        // An export names the version; its line imports again.
        let line: JSONValue = .object(["stream": "case-000001", "type": "AppealDecided", "schemaVersion": .integer(2), "data": appeal("quashed")])
        let event = try Catalogue.validate(try Envelope.decode(line, today: today, dateField: DomainEvent.dateField))
        #expect(event.schemaVersion == 2)
    }
}
