import EventLog
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// The kinds of stream: `case-<caseId>` and `coordinator-<coordinatorId>`.
public enum StreamKind: Sendable, Hashable {
    case `case`
    case coordinator

    /// The kind of `stream`, or nil when it is neither.
    public init?(stream: String) {
        // UTF-8 counts, not `count`, which walks the grapheme clusters (this runs for every event folded).
        if stream.hasPrefix("case-"), stream.utf8.count > 5 { self = .case }
        else if stream.hasPrefix("coordinator-"), stream.utf8.count > 12 { self = .coordinator }
        else { return nil }
    }

    /// The id after the category: `0042` of `coordinator-0042`.
    public static func id(of stream: String) -> Substring {
        stream[stream.index(after: stream.firstIndex(of: "-")!)...]
    }
}

/// Every event of the event catalogue (docs/RULES.md) as a typed value.
public enum DomainEvent: Hashable, Sendable {
    case applicationReceived(ApplicationReceived)
    case preliminaryReplySent(PreliminaryReplySent)
    case assessmentCompleted(AssessmentCompleted)
    case consentGiven(ConsentGiven)
    case consentWithdrawn(ConsentWithdrawn)
    case decisionMade(DecisionMade)
    case decisionSent(DecisionSent)
    case appealReceived(AppealReceived)
    case appealForwarded(AppealForwarded)
    case appealDecided(AppealDecided)
    case coordinatorAppointed(CoordinatorAppointed)
    case coordinatorReleased(CoordinatorReleased)
    case groupMemberAdded(GroupMemberAdded)
    case groupMemberRemoved(GroupMemberRemoved)
    case meetingScheduled(MeetingScheduled)
    case meetingHeld(MeetingHeld)
    case minutesWritten(MinutesWritten)
    case meetingCancelled(MeetingCancelled)
    case actionItemCompleted(ActionItemCompleted)
    case planEstablished(PlanEstablished)
    case goalAdded(GoalAdded)
    case goalAchieved(GoalAchieved)
    case measureAdded(MeasureAdded)
    case planEvaluated(PlanEvaluated)
    case transitionPlanned(TransitionPlanned)
    case deviationReported(DeviationReported)
    case deviationResolved(DeviationResolved)
    case planClosed(PlanClosed)
    case coordinatorRegistered(CoordinatorRegistered)
    case coordinatorTrained(CoordinatorTrained)
    case coordinatorDeactivated(CoordinatorDeactivated)

    /// The current schema version of a type's payload: 2 for `AppealDecided`
    /// (its outcomes renamed and added to), 1 for every other. An older version
    /// met in the log or on input is read in the current one (the upcast:
    /// ``AppealOutcome/formerNames``; ``upcast(type:schemaVersion:payload:)``
    /// for the JSON that outputs show).
    public static func schemaVersion(of type: String) -> UInt16 {
        type == Kind.appealDecided.rawValue ? 2 : 1
    }

    /// A stored payload as its type's current schema version has it, for what
    /// reports, history, the feed and exports show: version 1 of
    /// `AppealDecided` says `upheld` where version 2 says `confirmed`.
    public static func upcast(type: String, schemaVersion: UInt16, payload: JSONValue) -> (schemaVersion: UInt16, payload: JSONValue) {
        let current = Self.schemaVersion(of: type)
        guard schemaVersion < current, case .object(var members) = payload else { return (schemaVersion, payload) }
        if type == Kind.appealDecided.rawValue, let i = members.firstIndex(where: { $0.key == "outcome" }),
           let name = members[i].value.stringValue, let outcome = AppealOutcome.formerNames[name] {
            members[i].value = .string(outcome.rawValue)
        }
        return (current, .object(members))
    }

    /// The catalogue's event types, case streams' first; the raw value is the type's name.
    public enum Kind: String, CaseIterable, Sendable {
        case applicationReceived = "ApplicationReceived"
        case preliminaryReplySent = "PreliminaryReplySent"
        case assessmentCompleted = "AssessmentCompleted"
        case consentGiven = "ConsentGiven"
        case consentWithdrawn = "ConsentWithdrawn"
        case decisionMade = "DecisionMade"
        case decisionSent = "DecisionSent"
        case appealReceived = "AppealReceived"
        case appealForwarded = "AppealForwarded"
        case appealDecided = "AppealDecided"
        case coordinatorAppointed = "CoordinatorAppointed"
        case coordinatorReleased = "CoordinatorReleased"
        case groupMemberAdded = "GroupMemberAdded"
        case groupMemberRemoved = "GroupMemberRemoved"
        case meetingScheduled = "MeetingScheduled"
        case meetingHeld = "MeetingHeld"
        case minutesWritten = "MinutesWritten"
        case meetingCancelled = "MeetingCancelled"
        case actionItemCompleted = "ActionItemCompleted"
        case planEstablished = "PlanEstablished"
        case goalAdded = "GoalAdded"
        case goalAchieved = "GoalAchieved"
        case measureAdded = "MeasureAdded"
        case planEvaluated = "PlanEvaluated"
        case transitionPlanned = "TransitionPlanned"
        case deviationReported = "DeviationReported"
        case deviationResolved = "DeviationResolved"
        case planClosed = "PlanClosed"
        case coordinatorRegistered = "CoordinatorRegistered"
        case coordinatorTrained = "CoordinatorTrained"
        case coordinatorDeactivated = "CoordinatorDeactivated"

        /// Each kind by its name: one hash, where a `switch` over the names
        /// compares them one after the other (decoding does this for every event).
        static let named = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

        /// The kind of a stored type name, read from its bytes without making a
        /// string of them (a string past 15 bytes is an allocation).
        static func named(utf8 bytes: UnsafeRawBufferPointer) -> Kind? {
            guard let kind = bySignature[signature(bytes)], kind.rawValue.utf8.elementsEqual(bytes) else { return nil }
            return kind
        }

        /// The length and the first and last eight bytes of a name, in one
        /// word: no two of the catalogue's names share it (a test holds that).
        static func signature(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            guard bytes.count >= 8 else { return UInt64(bytes.count) }
            let first = bytes.loadUnaligned(as: UInt64.self), last = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            return first ^ (last &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(bytes.count) << 56
        }

        /// Each kind by its name's signature.
        static let bySignature: [UInt64: Kind] = Dictionary(uniqueKeysWithValues: allCases.map { kind in
            (Array(kind.rawValue.utf8).withUnsafeBytes(signature), kind)
        })
    }

    /// Every type name, case streams' first.
    public static let allTypes = Kind.allCases.map(\.rawValue)
    public static let coordinatorTypes = [Kind.coordinatorRegistered, .coordinatorTrained, .coordinatorDeactivated].map(\.rawValue)
    public static let caseTypes = allTypes.filter { !coordinatorTypes.contains($0) }

    /// The payload field that holds the event's own date: the default for
    /// `occurredOn`. Nil for the two types whose only date looks ahead.
    public static func dateField(of type: String) -> String? {
        switch type {
        case "ApplicationReceived": "receivedOn"
        case "PreliminaryReplySent", "DecisionSent": "sentOn"
        case "AssessmentCompleted": "completedOn"
        case "ConsentGiven": "givenOn"
        case "ConsentWithdrawn": "withdrawnOn"
        case "DecisionMade", "AppealDecided": "decidedOn"
        case "AppealReceived": "receivedOn"
        case "AppealForwarded": "forwardedOn"
        case "CoordinatorAppointed": "appointedOn"
        case "CoordinatorReleased": "releasedOn"
        case "GroupMemberAdded", "GoalAdded", "MeasureAdded": "addedOn"
        case "GroupMemberRemoved": "removedOn"
        case "MeetingHeld": "heldOn"
        case "MinutesWritten": "writtenOn"
        case "MeetingCancelled": "cancelledOn"
        case "ActionItemCompleted": "completedOn"
        case "PlanEstablished": "establishedOn"
        case "GoalAchieved": "achievedOn"
        case "PlanEvaluated": "evaluatedOn"
        case "DeviationReported": "reportedOn"
        case "DeviationResolved": "resolvedOn"
        case "PlanClosed": "closedOn"
        case "CoordinatorRegistered": "registeredOn"
        case "CoordinatorTrained": "trainedOn"
        case "CoordinatorDeactivated": "deactivatedOn"
        default: nil
        }
    }

    /// Decodes a payload of `type`, upcasting older schema versions.
    ///
    /// - Returns: the event and its canonical payload (the catalogue's fields
    ///   only, in the catalogue's order).
    /// - Throws: ``LogError`` `.invalidShape` for an unknown type or a missing,
    ///   mistyped or out-of-list field; `.invalidDate`; `.invalidPersonId`.
    /// - Parameters:
    ///   - canonical: whether to build the canonical payload (appends store it;
    ///     readers need only the event).
    ///   - sealed: the payload was read from the log, where personal values may
    ///     be sealed (empty strings; ``DomainEvent/sealedFields(of:)``): they read
    ///     as empty strings, and a sealed person id as "".
    public static func decode(type: String, schemaVersion: UInt16? = nil, payload: JSONValue, canonical: Bool = true, sealed: Bool = false) throws(LogError) -> (event: DomainEvent, canonical: JSONValue) {
        let schemaVersion = schemaVersion ?? Self.schemaVersion(of: type)
        try checkSchemaVersion(schemaVersion, of: type)
        let reader = try PayloadReader(payload, path: "data", collecting: canonical, sealedAllowed: sealed)
        guard canonical && !sealed else {
            var r = reader
            return (try read(type: type, &r), r.canonical)
        }
        // Input: every wrong field of the line is named at once, and nothing unknown is dropped silently.
        var r = EveryProblem(reader)
        let event = try read(type: type, &r)
        r.refuseUnknownFields()
        if !r.problems.isEmpty { throw LogError.combining(r.problems) }
        return (event, r.inner.canonical)
    }

    /// Decodes a stored payload straight from its packed bytes, personal values
    /// sealed, as ``decode(type:schemaVersion:payload:canonical:sealed:)`` does
    /// from its JSON form with `sealed` (no ``JSONValue`` is built).
    ///
    /// - Throws: ``LogError`` without naming the field when the payload does
    ///   not read this way: decode its JSON form then, for the error that does
    ///   (``decode(_:keys:)`` does so).
    static func decode(type: String, schemaVersion: UInt16, packed: UnsafeRawBufferPointer) throws(LogError) -> DomainEvent {
        guard let kind = Kind.named[type] else { throw PackedPayloadReader.unreadable }
        return try decode(kind: kind, schemaVersion: schemaVersion, packed: packed)
    }

    static func decode(kind: Kind, schemaVersion: UInt16, packed: UnsafeRawBufferPointer) throws(LogError) -> DomainEvent {
        try checkSchemaVersion(schemaVersion, of: kind.rawValue)
        var r = try PackedPayloadReader(PackedObject.whole(packed))
        return try read(kind: kind, &r)
    }

    private static func checkSchemaVersion(_ schemaVersion: UInt16, of type: String) throws(LogError) {
        let current = Self.schemaVersion(of: type)
        guard schemaVersion >= 1, schemaVersion <= current else {
            throw LogError(.invalidShape, "field schemaVersion: \(type.prefix(64)) has schema version\(current == 1 ? " 1" : "s 1 to \(current)")")
        }
    }

    /// The typed event of `type`, its fields read by `r`.
    static func read<R: PayloadFields>(type: String, _ r: inout R) throws(LogError) -> DomainEvent {
        guard let kind = Kind.named[type] else {
            let hint = Envelope.closest(to: type, among: Kind.allCases.map(\.rawValue)).map { "did you mean `\($0)`? " } ?? ""
            throw LogError(.invalidShape, "field type: \(type.prefix(64)) is not an event type of the catalogue (\(hint)`iplog types` lists them)")
        }
        return try read(kind: kind, &r)
    }

    static func read<R: PayloadFields>(kind: Kind, _ r: inout R) throws(LogError) -> DomainEvent {
        let event: DomainEvent
        switch kind {
        case .applicationReceived:
            event = .applicationReceived(.init(personId: try r.personIDDigits("personId"), receivedOn: try r.date("receivedOn"),
                                               requested: try r.choices("requested", nonEmpty: true), origin: try r.choice("origin"),
                                               unit: try r.string("unit")))
        case .preliminaryReplySent:
            event = .preliminaryReplySent(.init(sentOn: try r.date("sentOn"), expectedDecisionBy: try r.date("expectedDecisionBy")))
        case .assessmentCompleted:
            event = .assessmentCompleted(.init(completedOn: try r.date("completedOn"), longTermNeed: try r.bool("longTermNeed"),
                                               services: try r.strings("services"), residesInMunicipality: try r.bool("residesInMunicipality"),
                                               wantsIndividualPlan: try r.bool("wantsIndividualPlan")))
        case .consentGiven:
            event = .consentGiven(.init(givenOn: try r.date("givenOn"), scope: try r.choices("scope", nonEmpty: true), givenBy: try r.choice("givenBy")))
        case .consentWithdrawn:
            event = .consentWithdrawn(.init(withdrawnOn: try r.date("withdrawnOn"), scope: try r.choices("scope", nonEmpty: true)))
        case .decisionMade:
            event = .decisionMade(.init(decidedOn: try r.date("decidedOn"), individualPlan: try r.choice("individualPlan"),
                                        coordinator: try r.choice("coordinator"), childCoordinator: try r.choice("childCoordinator"),
                                        grounds: try r.string("grounds"), decidedBy: try r.string("decidedBy")))
        case .decisionSent:
            event = .decisionSent(.init(sentOn: try r.date("sentOn"), channel: try r.choice("channel"),
                                        appealInformationIncluded: try r.bool("appealInformationIncluded")))
        case .appealReceived:
            event = .appealReceived(.init(receivedOn: try r.date("receivedOn"), grounds: try r.string("grounds")))
        case .appealForwarded:
            event = .appealForwarded(.init(forwardedOn: try r.date("forwardedOn")))
        case .appealDecided:
            event = .appealDecided(.init(decidedOn: try r.date("decidedOn"), decidedBy: try r.choice("decidedBy"),
                                         outcome: try r.choice("outcome", formerNames: AppealOutcome.formerNames)))
        case .coordinatorAppointed:
            event = .coordinatorAppointed(.init(coordinatorId: try r.string("coordinatorId"), appointedOn: try r.date("appointedOn")))
        case .coordinatorReleased:
            event = .coordinatorReleased(.init(coordinatorId: try r.string("coordinatorId"), releasedOn: try r.date("releasedOn"), reason: try r.string("reason")))
        case .groupMemberAdded:
            event = .groupMemberAdded(.init(memberId: try r.string("memberId"), role: try r.string("role"),
                                            organisation: try r.string("organisation"), addedOn: try r.date("addedOn")))
        case .groupMemberRemoved:
            event = .groupMemberRemoved(.init(memberId: try r.string("memberId"), removedOn: try r.date("removedOn")))
        case .meetingScheduled:
            event = .meetingScheduled(.init(meetingId: try r.string("meetingId"), scheduledFor: try r.date("scheduledFor")))
        case .meetingHeld:
            event = .meetingHeld(.init(
                meetingId: try r.string("meetingId"), heldOn: try r.date("heldOn"), attendees: try r.strings("attendees"),
                minutesWritten: try r.bool("minutesWritten"),
                actionItems: try r.objects("actionItems") { (i: inout R) throws(LogError) in
                    ActionItem(itemId: try i.string("itemId"), description: try i.string("description"),
                               responsible: try i.string("responsible"), dueOn: try i.date("dueOn"))
                }))
        case .minutesWritten:
            event = .minutesWritten(.init(meetingId: try r.string("meetingId"), writtenOn: try r.date("writtenOn")))
        case .meetingCancelled:
            event = .meetingCancelled(.init(meetingId: try r.string("meetingId"), cancelledOn: try r.date("cancelledOn"), reason: try r.string("reason")))
        case .actionItemCompleted:
            event = .actionItemCompleted(.init(itemId: try r.string("itemId"), completedOn: try r.date("completedOn")))
        case .planEstablished:
            event = .planEstablished(.init(
                establishedOn: try r.date("establishedOn"),
                goals: try r.objects("goals") { (g: inout R) throws(LogError) in try readGoal(&g) },
                measures: try r.objects("measures") { (m: inout R) throws(LogError) in try readMeasure(&m) },
                nextEvaluationDue: try r.optionalDate("nextEvaluationDue")))
        case .goalAdded:
            event = .goalAdded(.init(goal: try readGoal(&r), addedOn: try r.date("addedOn")))
        case .goalAchieved:
            event = .goalAchieved(.init(goalId: try r.string("goalId"), achievedOn: try r.date("achievedOn")))
        case .measureAdded:
            event = .measureAdded(.init(measure: try readMeasure(&r), addedOn: try r.date("addedOn")))
        case .planEvaluated:
            event = .planEvaluated(.init(evaluatedOn: try r.date("evaluatedOn"), nextEvaluationDue: try r.date("nextEvaluationDue"), summary: try r.string("summary")))
        case .transitionPlanned:
            event = .transitionPlanned(.init(transition: try r.string("transition"), plannedFor: try r.date("plannedFor")))
        case .deviationReported:
            event = .deviationReported(.init(deviationId: try r.string("deviationId"), reportedOn: try r.date("reportedOn"),
                                             category: try r.string("category"), description: try r.string("description"),
                                             externalRef: try r.optionalString("externalRef")))
        case .deviationResolved:
            event = .deviationResolved(.init(deviationId: try r.string("deviationId"), resolvedOn: try r.date("resolvedOn"), resolution: try r.string("resolution")))
        case .planClosed:
            event = .planClosed(.init(closedOn: try r.date("closedOn"), reason: try r.choice("reason")))
        case .coordinatorRegistered:
            event = .coordinatorRegistered(.init(coordinatorId: try r.string("coordinatorId"), name: try r.string("name"),
                                                 unit: try r.string("unit"), profession: try r.string("profession"),
                                                 registeredOn: try r.date("registeredOn")))
        case .coordinatorTrained:
            event = .coordinatorTrained(.init(trainedOn: try r.date("trainedOn"), course: try r.string("course")))
        case .coordinatorDeactivated:
            event = .coordinatorDeactivated(.init(deactivatedOn: try r.date("deactivatedOn")))
        }
        return event
    }

    private static func readGoal<R: PayloadFields>(_ r: inout R) throws(LogError) -> Goal {
        Goal(goalId: try r.string("goalId"), description: try r.string("description"), horizon: try r.choice("horizon"))
    }

    private static func readMeasure<R: PayloadFields>(_ r: inout R) throws(LogError) -> Measure {
        Measure(measureId: try r.string("measureId"), description: try r.string("description"), responsible: try r.optionalString("responsible"))
    }

    /// The stream kind this event belongs in.
    public var streamKind: StreamKind {
        switch self {
        case .coordinatorRegistered, .coordinatorTrained, .coordinatorDeactivated: .coordinator
        default: .case
        }
    }

    /// The event's own business dates, which rule 10 checks (dates that look
    /// ahead — expectedDecisionBy, dueOn, nextEvaluationDue, scheduledFor,
    /// plannedFor — are left out).
    public var ownDates: [(field: String, date: BusinessDate)] {
        switch self {
        case .applicationReceived(let e): [("receivedOn", e.receivedOn)]
        case .preliminaryReplySent(let e): [("sentOn", e.sentOn)]
        case .assessmentCompleted(let e): [("completedOn", e.completedOn)]
        case .consentGiven(let e): [("givenOn", e.givenOn)]
        case .consentWithdrawn(let e): [("withdrawnOn", e.withdrawnOn)]
        case .decisionMade(let e): [("decidedOn", e.decidedOn)]
        case .decisionSent(let e): [("sentOn", e.sentOn)]
        case .appealReceived(let e): [("receivedOn", e.receivedOn)]
        case .appealForwarded(let e): [("forwardedOn", e.forwardedOn)]
        case .appealDecided(let e): [("decidedOn", e.decidedOn)]
        case .coordinatorAppointed(let e): [("appointedOn", e.appointedOn)]
        case .coordinatorReleased(let e): [("releasedOn", e.releasedOn)]
        case .groupMemberAdded(let e): [("addedOn", e.addedOn)]
        case .groupMemberRemoved(let e): [("removedOn", e.removedOn)]
        case .meetingScheduled: []
        case .meetingHeld(let e): [("heldOn", e.heldOn)]
        case .minutesWritten(let e): [("writtenOn", e.writtenOn)]
        case .meetingCancelled(let e): [("cancelledOn", e.cancelledOn)]
        case .actionItemCompleted(let e): [("completedOn", e.completedOn)]
        case .planEstablished(let e): [("establishedOn", e.establishedOn)]
        case .goalAdded(let e): [("addedOn", e.addedOn)]
        case .goalAchieved(let e): [("achievedOn", e.achievedOn)]
        case .measureAdded(let e): [("addedOn", e.addedOn)]
        case .planEvaluated(let e): [("evaluatedOn", e.evaluatedOn)]
        case .transitionPlanned: []
        case .deviationReported(let e): [("reportedOn", e.reportedOn)]
        case .deviationResolved(let e): [("resolvedOn", e.resolvedOn)]
        case .planClosed(let e): [("closedOn", e.closedOn)]
        case .coordinatorRegistered(let e): [("registeredOn", e.registeredOn)]
        case .coordinatorTrained(let e): [("trainedOn", e.trainedOn)]
        case .coordinatorDeactivated(let e): [("deactivatedOn", e.deactivatedOn)]
        }
    }

    /// The event's own date (the first of ``ownDates``) without making the
    /// list: the deviation fold asks for it for every event.
    public var ownDate: BusinessDate? {
        switch self {
        case .applicationReceived(let e): e.receivedOn
        case .preliminaryReplySent(let e): e.sentOn
        case .assessmentCompleted(let e): e.completedOn
        case .consentGiven(let e): e.givenOn
        case .consentWithdrawn(let e): e.withdrawnOn
        case .decisionMade(let e): e.decidedOn
        case .decisionSent(let e): e.sentOn
        case .appealReceived(let e): e.receivedOn
        case .appealForwarded(let e): e.forwardedOn
        case .appealDecided(let e): e.decidedOn
        case .coordinatorAppointed(let e): e.appointedOn
        case .coordinatorReleased(let e): e.releasedOn
        case .groupMemberAdded(let e): e.addedOn
        case .groupMemberRemoved(let e): e.removedOn
        case .meetingScheduled: nil
        case .meetingHeld(let e): e.heldOn
        case .minutesWritten(let e): e.writtenOn
        case .meetingCancelled(let e): e.cancelledOn
        case .actionItemCompleted(let e): e.completedOn
        case .planEstablished(let e): e.establishedOn
        case .goalAdded(let e): e.addedOn
        case .goalAchieved(let e): e.achievedOn
        case .measureAdded(let e): e.addedOn
        case .planEvaluated(let e): e.evaluatedOn
        case .transitionPlanned: nil
        case .deviationReported(let e): e.reportedOn
        case .deviationResolved(let e): e.resolvedOn
        case .planClosed(let e): e.closedOn
        case .coordinatorRegistered(let e): e.registeredOn
        case .coordinatorTrained(let e): e.trainedOn
        case .coordinatorDeactivated(let e): e.deactivatedOn
        }
    }

    /// Plan work: the events that need an IP grant, consent and (but the first) a plan.
    public var isPlanWork: Bool {
        switch self {
        case .planEstablished, .goalAdded, .goalAchieved, .measureAdded, .planEvaluated: true
        default: false
        }
    }
}

extension ImportItem {
    /// The item of one line of a JSON Lines import: parsed, its envelope read
    /// and its payload checked against the catalogue (or why not); nil for a
    /// blank line.
    public static func parse(line: Int, _ bytes: [UInt8], today: BusinessDate) -> ImportItem? {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        return ImportItem(line: line, event: Result {
            try Catalogue.validate(try Envelope.decode(try JSONParser.parse(bytes), today: today, dateField: DomainEvent.dateField, catalogueChecksDates: true))
        })
    }

    /// The lines of a JSON Lines import, numbered from 1, parsed into items on
    /// a thread of their own while the log writes the ones before
    /// (``ReadAhead``). Blank lines are skipped.
    public static func parsedAhead<Lines: Sequence & Sendable>(_ lines: Lines, today: BusinessDate) -> ReadAhead<Lines, ImportItem>
    where Lines.Element == (Int, [UInt8]) {
        ReadAhead(lines) { line in parse(line: line.0, line.1, today: today) }
    }

    /// ``parsedAhead(_:today:)`` for lines read from a file, where reading may
    /// fail: a line that could not be read becomes an item with the error, so
    /// the import stops there (keeping what it committed before) instead of
    /// taking the failure for the end of the file.
    public static func parsedAhead<Lines: Sequence & Sendable>(_ lines: Lines, today: BusinessDate) -> ReadAhead<Lines, ImportItem>
    where Lines.Element == (Int, Result<[UInt8], LogError>) {
        ReadAhead(lines) { line in
            switch line.1 {
            case .success(let bytes): parse(line: line.0, bytes, today: today)
            case .failure(let error): ImportItem(line: line.0, event: .failure(error))
            }
        }
    }
}

/// Checking an incoming event against the catalogue (the shape stage, before
/// the rules): the type exists and belongs in this kind of stream, every field
/// is there with the right type and value, dates exist, person ids are valid.
public enum Catalogue {
    /// The path of the first string in `value` that holds a control character
    /// (input only: what is stored already stays readable as it is).
    static func controlCharacterField(_ value: JSONValue, path: String) -> String? {
        switch value {
        case .string(let text): return EventStore.containsControlCharacter(text) ? path : nil
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let found = controlCharacterField(item, path: "\(path)[\(i)]") { return found }
            }
            return nil
        case .object(let members):
            for member in members {
                if let found = controlCharacterField(member.value, path: "\(path).\(member.key)") { return found }
            }
            return nil
        default: return nil
        }
    }

    /// The event with its canonical payload and schema version, ready for the log.
    /// - Throws: ``LogError`` (`invalidShape`, `invalidDate`, `invalidPersonId`), naming the field.
    public static func validate(_ event: ProposedEvent) throws(LogError) -> ProposedEvent {
        guard let kind = StreamKind(stream: event.stream) else {
            throw Envelope.shapeError("stream", "a case-<id> or coordinator-<id> stream expected")
        }
        let (decoded, canonical) = try DomainEvent.decode(type: event.type, schemaVersion: event.schemaVersion, payload: event.payload)
        if let field = controlCharacterField(canonical, path: "data") {
            throw Envelope.shapeError(field, "must not contain control characters (a terminal escape, CR, NUL, …)")
        }
        guard decoded.streamKind == kind else {
            throw Envelope.shapeError("stream", "\(event.type) belongs in a \(decoded.streamKind == .case ? "case-" : "coordinator-") stream")
        }
        if case .coordinatorRegistered(let e) = decoded, e.coordinatorId != StreamKind.id(of: event.stream) {
            throw Envelope.shapeError("data.coordinatorId", "must be the id in the stream's name")
        }
        var out = event
        out.payload = canonical
        out.schemaVersion = DomainEvent.schemaVersion(of: event.type)  // stored in the current version, whatever it came in
        out.checked = decoded  // the policy takes it instead of decoding the payload again
        out.prepack(sealing: DomainEvent.sealedFields(of: event.type))  // the log takes it instead of packing in its transaction
        return out
    }
}
