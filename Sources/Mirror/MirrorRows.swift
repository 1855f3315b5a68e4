import Application
import CaseStatus
import CoordinatorWorkload
import Deviations
import Domain
import EventLog
import JSON
import ProjectionKit

/// The rows the mirror writes, made from a store: the log's events with their
/// personal values left out, and the read models' rows for a set of cases.
///
/// Everything here reads the store only; the mirror writes them to PostgreSQL.
struct MirrorRows {
    let context: ReportContext
    /// The store's secret for person pseudonyms (nil before the first application).
    private var secret: [UInt8]?
    /// Pseudonyms already worked out, by case (a case's person never changes;
    /// an erasure drops the entry).
    private var pseudonyms: [String: String?] = [:]

    static let eventColumns = ["position", "stream", "version", "type", "schema_version", "occurred_on", "recorded_at", "actor", "event_id", "data"]
    static let caseColumns = ["stream", "status", "person", "unit", "coordinator_id", "received_on", "assessed_on", "decided_on",
                              "plan_established_on", "closed_on", "last_event_on", "appeal_late", "version", "facts"]
    static let appointmentColumns = ["stream", "seq", "coordinator_id", "appointed_on", "released_on"]
    static let deviationColumns = ["stream", "seq", "rule", "ref", "since", "ended_on", "coordinator_id", "unit"]
    static let workloadColumns = ["coordinator_id", "unit", "as_of", "active_cases", "trained", "deactivated",
                                  "meetings_last_90_days", "meetings_scheduled_ahead", "open_deviations"]

    init(context: ReportContext) {
        self.context = context
    }

    var log: EventStore { context.log }

    /// The position every read model has reached (what the derived rows can cover).
    func readModelsPosition() throws -> UInt64 {
        try ReportContext.projectionNames.map { try context.views.checkpoint($0).position }.min() ?? 0
    }

    // MARK: Events

    /// The events of `log` from `position` on, at most `limit`, as COPY rows;
    /// the last one's position (nil when there are none). Reads only the log,
    /// so it runs beside the copy of the batch before.
    static func events(_ log: EventStore, from position: UInt64, limit: Int) throws -> (text: CopyText, last: UInt64?) {
        var text = CopyText()
        var last: UInt64?
        for event in try log.read(from: position, limit: limit) {
            let (schemaVersion, payload) = DomainEvent.upcast(type: event.type, schemaVersion: event.schemaVersion, payload: try event.payload())
            text.field(event.position)
            text.field(event.stream)
            text.field(event.version)
            text.field(event.type)
            text.field(schemaVersion)
            text.field(event.occurredOn.description)
            text.field(event.recordedAt.description)
            text.field(event.actor)
            text.field(event.eventID.description)
            text.field(Self.withoutPersonalValues(payload, DomainEvent.sealedFields(of: event.type)).jsonText)
            text.endRow()
            last = event.position
        }
        return (text, last)
    }

    /// The payload with every personal value as null: those stored sealed
    /// (an empty string in the packed form), and those the catalogue's `spec`
    /// calls personal, also where an older version stored them in the clear.
    static func withoutPersonalValues(_ value: JSONValue, _ spec: SealedFields?) -> JSONValue {
        switch value {
        case .string(let s) where s.isEmpty || spec == .all: .null
        case .array(let items): .array(items.map { withoutPersonalValues($0, spec) })
        case .object(let members): .object(members.map { .init($0.key, withoutPersonalValues($0.value, spec?.member($0.key))) })
        default: value
        }
    }

    // MARK: Read models

    /// The case streams whose rows change with events of `streams`: the cases
    /// themselves, and for a coordinator's stream (training, deactivation) every
    /// case they were appointed to.
    func casesAffected(by streams: Set<String>) throws -> Set<String> {
        var cases: Set<String> = []
        for stream in streams {
            switch StreamKind(stream: stream) {
            case .coordinator:
                let appointed = try context.views.value([String].self, projection: CoordinatorWorkloadProjection.name, key: stream) ?? []
                cases.formUnion(appointed)
            case .some:
                cases.insert(stream)
            case nil:
                continue
            }
        }
        return cases
    }

    /// The deviation periods in force, as text (what the deviations rows depend on besides the log).
    var periods: String {
        context.config.periods.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ",")
    }

    /// Every case stream the read models hold.
    func allCases() throws -> [String] {
        try context.views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "case-").map(\.key)
    }

    struct CaseRows {
        var cases = CopyText()
        var appointments = CopyText()
        var deviations = CopyText()
    }

    /// The rows of `streams` in the cases, appointments and deviations tables.
    mutating func caseRows(_ streams: [String]) throws -> CaseRows {
        var rows = CaseRows()
        let trainings = try context.deviations.trainings()
        let config = context.config
        for stream in streams {
            guard let record = try context.views.value(StatusRecord.self, projection: CaseStatusProjection.name, key: stream),
                  let s = record.caseState, s.status != nil else { continue }
            func date(_ d: BusinessDate?) -> String? { d?.description }
            rows.cases.field(stream)
            rows.cases.field(s.status?.rawValue)
            rows.cases.field(try pseudonym(of: stream, state: s))
            rows.cases.field(s.unit)
            rows.cases.field(s.activeCoordinator)
            rows.cases.field(date(s.receivedOn))
            rows.cases.field(date(s.assessment?.completedOn))
            rows.cases.field(date(s.decisions.first?.decidedOn))
            rows.cases.field(date(s.planEstablishedOn))
            rows.cases.field(date(s.closed?.closedOn))
            rows.cases.field(date(s.lastEventOn))
            rows.cases.field(s.appeals.contains(where: \.late))
            rows.cases.field(record.version)
            rows.cases.field(JSONValue.object(Summary.of(s, personId: nil, showPersonID: false).filter { $0.key != "personId" }).jsonText)
            rows.cases.endRow()

            for (seq, a) in s.appointments.enumerated() {
                rows.appointments.field(stream)
                rows.appointments.field(seq)
                rows.appointments.field(a.coordinatorId)
                rows.appointments.field(a.appointedOn.description)
                rows.appointments.field(date(a.releasedOn))
                rows.appointments.endRow()
            }

            guard let tracker = try context.views.value(DeviationTracker.self, projection: DeviationsProjection.name, key: stream) else { continue }
            // Resolved with every training the registry holds: an interval's
            // end does not depend on the day it is looked at from, so one row
            // answers for every date (docs/SCALE.md).
            let resolved = DeviationReport.resolved(tracker, asOf: Self.everyDay, config: config) { trainings[$0] ?? [] }
            for (seq, r) in resolved.enumerated() {
                rows.deviations.field(stream)
                rows.deviations.field(seq)
                rows.deviations.field(r.interval.rule.rawValue)
                rows.deviations.field(r.interval.ref)
                rows.deviations.field(r.since.description)
                rows.deviations.field(date(r.end))
                rows.deviations.field(DeviationReport.coordinator(on: r.since, in: tracker.state))
                rows.deviations.field(tracker.state.unit)
                rows.deviations.endRow()
            }
        }
        return rows
    }

    /// A date after every date the log can hold.
    static let everyDay = BusinessDate(iso: "9999-12-31")!

    /// `iplog workload` as of `date`, as rows of coordinator_workload.
    func workloadRows(asOf date: BusinessDate) throws -> CopyText {
        var text = CopyText()
        for row in try WorkloadQuery(deviations: context.deviations).rows(asOf: date) {
            text.field(row.coordinatorId)
            text.field(row.unit)
            text.field(date.description)
            text.field(row.activeCases)
            text.field(row.trained)
            text.field(row.deactivated)
            text.field(row.meetingsLast90Days)
            text.field(row.meetingsScheduledAhead)
            text.field(row.openDeviations)
            text.endRow()
        }
        return text
    }

    // MARK: Persons

    /// The case's person as the store's pseudonym; nil when erased or unknown.
    private mutating func pseudonym(of stream: String, state: CaseState) throws -> String? {
        if let known = pseudonyms[stream] { return known }
        var result: String?
        if let slot = state.personKey, case .erased = try log.personKeys.slot(slot) {
            result = nil
        } else if let person = try PersonalData.personId(ofCase: stream, in: log), person != PackedJSON.erasedMarker {
            if secret == nil { secret = try DomainPolicy.pseudonymSecret(in: log) }
            result = secret.map { DomainPolicy.pseudonym(person, secret: $0) }
        }
        pseudonyms[stream] = result
        return result
    }

    /// The cases whose person's key is erased (their pseudonym must go).
    mutating func erasedCases() throws -> [String] {
        var erased: [String] = []
        for (stream, record) in try context.views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "case-") {
            guard let slot = record.caseState?.personKey, case .erased = try log.personKeys.slot(slot) else { continue }
            erased.append(stream)
            pseudonyms[stream] = .some(nil)
        }
        return erased
    }
}
