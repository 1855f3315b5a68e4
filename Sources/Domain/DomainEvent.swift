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

/// One event type of the catalogue, declared in one place: its struct and
/// this conformance, beside each other in Catalogue.swift, say all that the
/// log, the catalogue's checks, the sealing of personal values and the rules
/// need to know of it. The tables of ``DomainEvent`` are drawn from these
/// declarations; its switches only map each case to its type (the compiler
/// names each one a new type must join).
protocol CatalogueEvent: Hashable, Sendable {
    /// Its name in the log (``DomainEvent/Kind``).
    static var kind: DomainEvent.Kind { get }
    /// The kind of stream it belongs in (cases', unless it says otherwise).
    static var stream: StreamKind { get }
    /// The payload field holding the event's own date: the default for
    /// `occurredOn`, and what rule 10 checks. Nil when its only date looks ahead.
    static var dateField: String? { get }
    /// Its personal values, stored sealed under the person's key (``DomainEvent/sealedFields(of:)``).
    static var sealed: SealedFields? { get }
    /// Its payload's current schema version.
    static var schemaVersion: UInt16 { get }
    /// Brings a stored payload of an older schema version to the current one
    /// (for what outputs show; reading a payload accepts every version).
    static func upcast(_ payload: inout [JSONValue.Member], from version: UInt16)
    /// Plan work: needs an IP grant, consent and (but the first) a plan.
    static var isPlanWork: Bool { get }
    /// The value of its ``dateField``.
    var ownDate: BusinessDate? { get }
    /// Reads it from a payload, field by field, naming the field of any error.
    static func read<R: PayloadFields>(_ r: inout R) throws(LogError) -> Self
}

extension CatalogueEvent {
    static var stream: StreamKind { .case }
    static var sealed: SealedFields? { nil }
    static var schemaVersion: UInt16 { 1 }
    static func upcast(_ payload: inout [JSONValue.Member], from version: UInt16) {}
    static var isPlanWork: Bool { false }
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

    /// The current schema version of a type's payload (each type declares it;
    /// `AppealDecided` is at 2). An older version met in the log or on input is
    /// read in the current one; ``upcast(type:schemaVersion:payload:)`` brings
    /// its JSON to it for what outputs show.
    public static func schemaVersion(of type: String) -> UInt16 {
        Kind.named[type]?.declaration.schemaVersion ?? 1
    }

    /// A stored payload as its type's current schema version has it, for what
    /// reports, history, the feed and exports show (each type declares its
    /// upcast: version 1 of `AppealDecided` says `upheld` where 2 says `confirmed`).
    public static func upcast(type: String, schemaVersion: UInt16, payload: JSONValue) -> (schemaVersion: UInt16, payload: JSONValue) {
        guard let declaration = Kind.named[type]?.declaration, schemaVersion < declaration.schemaVersion,
              case .object(var members) = payload else { return (schemaVersion, payload) }
        declaration.upcast(&members, from: schemaVersion)
        return (declaration.schemaVersion, .object(members))
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

        /// Where the type is declared (its struct's ``CatalogueEvent`` conformance).
        var declaration: any CatalogueEvent.Type {
            switch self {
            case .applicationReceived: ApplicationReceived.self
            case .preliminaryReplySent: PreliminaryReplySent.self
            case .assessmentCompleted: AssessmentCompleted.self
            case .consentGiven: ConsentGiven.self
            case .consentWithdrawn: ConsentWithdrawn.self
            case .decisionMade: DecisionMade.self
            case .decisionSent: DecisionSent.self
            case .appealReceived: AppealReceived.self
            case .appealForwarded: AppealForwarded.self
            case .appealDecided: AppealDecided.self
            case .coordinatorAppointed: CoordinatorAppointed.self
            case .coordinatorReleased: CoordinatorReleased.self
            case .groupMemberAdded: GroupMemberAdded.self
            case .groupMemberRemoved: GroupMemberRemoved.self
            case .meetingScheduled: MeetingScheduled.self
            case .meetingHeld: MeetingHeld.self
            case .minutesWritten: MinutesWritten.self
            case .meetingCancelled: MeetingCancelled.self
            case .actionItemCompleted: ActionItemCompleted.self
            case .planEstablished: PlanEstablished.self
            case .goalAdded: GoalAdded.self
            case .goalAchieved: GoalAchieved.self
            case .measureAdded: MeasureAdded.self
            case .planEvaluated: PlanEvaluated.self
            case .transitionPlanned: TransitionPlanned.self
            case .deviationReported: DeviationReported.self
            case .deviationResolved: DeviationResolved.self
            case .planClosed: PlanClosed.self
            case .coordinatorRegistered: CoordinatorRegistered.self
            case .coordinatorTrained: CoordinatorTrained.self
            case .coordinatorDeactivated: CoordinatorDeactivated.self
            }
        }

        /// Each kind by its name: one hash, where a `switch` over the names
        /// compares them one after the other (decoding does this for every event).
        static let named = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

        /// The kind of a stored type name, read from its bytes without making a
        /// string of them (a string past 15 bytes is an allocation).
        static func named(utf8 bytes: UnsafeRawBufferPointer) -> Kind? {
            guard let slot = slots[Int(signature(bytes) % modulus)], slot.name.count == bytes.count else { return nil }
            for i in 0..<bytes.count where slot.name[i] != bytes[i] { return nil }
            return slot.kind
        }

        /// The length and the first and last eight bytes of a name, in one word.
        static func signature(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            guard bytes.count >= 8 else { return UInt64(bytes.count) }
            let first = bytes.loadUnaligned(as: UInt64.self), last = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            return first ^ (last &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(bytes.count) << 56
        }

        /// A table in which each name's signature, modulo ``modulus``, finds it
        /// alone: one division and one comparison of bytes (no hashing, no
        /// string). The smallest modulus that separates them all is found once.
        private static let (modulus, slots): (UInt64, [(name: [UInt8], kind: Kind)?]) = {
            let names = allCases.map { (Array($0.rawValue.utf8), $0) }
            let signatures = names.map { name in name.0.withUnsafeBytes(signature) }
            precondition(Set(signatures).count == signatures.count, "two event types share a signature: widen it")
            for modulus in UInt64(allCases.count)...(1 << 16) {
                var slots = [(name: [UInt8], kind: Kind)?](repeating: nil, count: Int(modulus))
                var separate = true
                for (name, signature) in zip(names, signatures) {
                    let i = Int(signature % modulus)
                    if slots[i] != nil { separate = false; break }
                    slots[i] = (name.0, name.1)
                }
                if separate { return (modulus, slots) }
            }
            fatalError("no modulus up to 65,536 separates the event types' signatures: widen the table")
        }()
    }

    /// Every type name, case streams' first.
    public static let allTypes = Kind.allCases.map(\.rawValue)
    public static let coordinatorTypes = Kind.allCases.filter { $0.declaration.stream == .coordinator }.map(\.rawValue)
    public static let caseTypes = allTypes.filter { !coordinatorTypes.contains($0) }

    /// The payload field that holds the event's own date: the default for
    /// `occurredOn`. Nil for the two types whose only date looks ahead.
    public static func dateField(of type: String) -> String? {
        Kind.named[type]?.declaration.dateField
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
        try checkSchemaVersion(schemaVersion, current: Self.schemaVersion(of: type), of: type)
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
        try checkSchemaVersion(schemaVersion, current: kind.declaration.schemaVersion, of: kind.rawValue)
        var r = try PackedPayloadReader(PackedObject.whole(packed))
        return try read(kind: kind, &r)
    }

    /// `current` is the type's own (not looked up here by name: a rebuild
    /// checks every event, and the kind is known by then).
    private static func checkSchemaVersion(_ schemaVersion: UInt16, current: UInt16, of type: String) throws(LogError) {
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

    /// Each type reads itself (its ``CatalogueEvent/read(_:)``); called on the
    /// concrete type, so that each reader is specialised for `R`.
    static func read<R: PayloadFields>(kind: Kind, _ r: inout R) throws(LogError) -> DomainEvent {
        switch kind {
        case .applicationReceived: .applicationReceived(try ApplicationReceived.read(&r))
        case .preliminaryReplySent: .preliminaryReplySent(try PreliminaryReplySent.read(&r))
        case .assessmentCompleted: .assessmentCompleted(try AssessmentCompleted.read(&r))
        case .consentGiven: .consentGiven(try ConsentGiven.read(&r))
        case .consentWithdrawn: .consentWithdrawn(try ConsentWithdrawn.read(&r))
        case .decisionMade: .decisionMade(try DecisionMade.read(&r))
        case .decisionSent: .decisionSent(try DecisionSent.read(&r))
        case .appealReceived: .appealReceived(try AppealReceived.read(&r))
        case .appealForwarded: .appealForwarded(try AppealForwarded.read(&r))
        case .appealDecided: .appealDecided(try AppealDecided.read(&r))
        case .coordinatorAppointed: .coordinatorAppointed(try CoordinatorAppointed.read(&r))
        case .coordinatorReleased: .coordinatorReleased(try CoordinatorReleased.read(&r))
        case .groupMemberAdded: .groupMemberAdded(try GroupMemberAdded.read(&r))
        case .groupMemberRemoved: .groupMemberRemoved(try GroupMemberRemoved.read(&r))
        case .meetingScheduled: .meetingScheduled(try MeetingScheduled.read(&r))
        case .meetingHeld: .meetingHeld(try MeetingHeld.read(&r))
        case .minutesWritten: .minutesWritten(try MinutesWritten.read(&r))
        case .meetingCancelled: .meetingCancelled(try MeetingCancelled.read(&r))
        case .actionItemCompleted: .actionItemCompleted(try ActionItemCompleted.read(&r))
        case .planEstablished: .planEstablished(try PlanEstablished.read(&r))
        case .goalAdded: .goalAdded(try GoalAdded.read(&r))
        case .goalAchieved: .goalAchieved(try GoalAchieved.read(&r))
        case .measureAdded: .measureAdded(try MeasureAdded.read(&r))
        case .planEvaluated: .planEvaluated(try PlanEvaluated.read(&r))
        case .transitionPlanned: .transitionPlanned(try TransitionPlanned.read(&r))
        case .deviationReported: .deviationReported(try DeviationReported.read(&r))
        case .deviationResolved: .deviationResolved(try DeviationResolved.read(&r))
        case .planClosed: .planClosed(try PlanClosed.read(&r))
        case .coordinatorRegistered: .coordinatorRegistered(try CoordinatorRegistered.read(&r))
        case .coordinatorTrained: .coordinatorTrained(try CoordinatorTrained.read(&r))
        case .coordinatorDeactivated: .coordinatorDeactivated(try CoordinatorDeactivated.read(&r))
        }
    }

    /// The event's type.
    public var kind: Kind {
        switch self {
        case .applicationReceived: .applicationReceived
        case .preliminaryReplySent: .preliminaryReplySent
        case .assessmentCompleted: .assessmentCompleted
        case .consentGiven: .consentGiven
        case .consentWithdrawn: .consentWithdrawn
        case .decisionMade: .decisionMade
        case .decisionSent: .decisionSent
        case .appealReceived: .appealReceived
        case .appealForwarded: .appealForwarded
        case .appealDecided: .appealDecided
        case .coordinatorAppointed: .coordinatorAppointed
        case .coordinatorReleased: .coordinatorReleased
        case .groupMemberAdded: .groupMemberAdded
        case .groupMemberRemoved: .groupMemberRemoved
        case .meetingScheduled: .meetingScheduled
        case .meetingHeld: .meetingHeld
        case .minutesWritten: .minutesWritten
        case .meetingCancelled: .meetingCancelled
        case .actionItemCompleted: .actionItemCompleted
        case .planEstablished: .planEstablished
        case .goalAdded: .goalAdded
        case .goalAchieved: .goalAchieved
        case .measureAdded: .measureAdded
        case .planEvaluated: .planEvaluated
        case .transitionPlanned: .transitionPlanned
        case .deviationReported: .deviationReported
        case .deviationResolved: .deviationResolved
        case .planClosed: .planClosed
        case .coordinatorRegistered: .coordinatorRegistered
        case .coordinatorTrained: .coordinatorTrained
        case .coordinatorDeactivated: .coordinatorDeactivated
        }
    }

    /// The stream kind this event belongs in.
    public var streamKind: StreamKind { kind.declaration.stream }

    /// The event's own business dates, which rule 10 checks (dates that look
    /// ahead — expectedDecisionBy, dueOn, nextEvaluationDue, scheduledFor,
    /// plannedFor — are left out): its type's ``CatalogueEvent/dateField``.
    public var ownDates: [(field: String, date: BusinessDate)] {
        guard let date = ownDate, let field = kind.declaration.dateField else { return [] }
        return [(field, date)]
    }

    /// The event's own date, without making the list (the deviation fold asks
    /// for it for every event).
    public var ownDate: BusinessDate? {
        switch self {
        case .applicationReceived(let e): e.ownDate
        case .preliminaryReplySent(let e): e.ownDate
        case .assessmentCompleted(let e): e.ownDate
        case .consentGiven(let e): e.ownDate
        case .consentWithdrawn(let e): e.ownDate
        case .decisionMade(let e): e.ownDate
        case .decisionSent(let e): e.ownDate
        case .appealReceived(let e): e.ownDate
        case .appealForwarded(let e): e.ownDate
        case .appealDecided(let e): e.ownDate
        case .coordinatorAppointed(let e): e.ownDate
        case .coordinatorReleased(let e): e.ownDate
        case .groupMemberAdded(let e): e.ownDate
        case .groupMemberRemoved(let e): e.ownDate
        case .meetingScheduled(let e): e.ownDate
        case .meetingHeld(let e): e.ownDate
        case .minutesWritten(let e): e.ownDate
        case .meetingCancelled(let e): e.ownDate
        case .actionItemCompleted(let e): e.ownDate
        case .planEstablished(let e): e.ownDate
        case .goalAdded(let e): e.ownDate
        case .goalAchieved(let e): e.ownDate
        case .measureAdded(let e): e.ownDate
        case .planEvaluated(let e): e.ownDate
        case .transitionPlanned(let e): e.ownDate
        case .deviationReported(let e): e.ownDate
        case .deviationResolved(let e): e.ownDate
        case .planClosed(let e): e.ownDate
        case .coordinatorRegistered(let e): e.ownDate
        case .coordinatorTrained(let e): e.ownDate
        case .coordinatorDeactivated(let e): e.ownDate
        }
    }

    /// Plan work: the events that need an IP grant, consent and (but the first) a plan.
    public var isPlanWork: Bool { kind.declaration.isPlanWork }
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
