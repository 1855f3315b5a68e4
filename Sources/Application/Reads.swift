import AccessLog
import CaseStatus
import CoordinatorWorkload
import Deviations
import Domain
import EventLog
import Foundation
import JSON
import ProjectionKit
import Synchronization

/// The reads of a store that the CLI and the service share. Each checks what
/// the caller may see, and records a read of personal data in the access log
/// under the caller's name before it returns anything: if the read cannot be
/// recorded, nothing is shown (Normen; helsepersonelloven §21a).
public final class Reads: Sendable {
    public let log: EventStore
    public let storePath: String
    private let reportContext: ReportContext?
    private let accessLog: Mutex<AccessLog?> = Mutex(nil)
    /// One catch-up of the read models at a time in this process.
    private let catchingUp = Mutex(())

    /// The reads of the log and its read models.
    public init(context: ReportContext) {
        reportContext = context
        log = context.log
        storePath = context.storePath
    }

    /// The reads of the log alone (the audit replay), which open no read model.
    public init(log: EventStore, storePath: String) {
        reportContext = nil
        self.log = log
        self.storePath = storePath
    }

    /// The read models.
    public var context: ReportContext {
        get throws {
            guard let reportContext else { throw LogError(.damaged, "internal: a report was asked of the log's reads alone") }
            return reportContext
        }
    }

    /// The store's access log, opened at its first use.
    public func access() throws -> AccessLog {
        try accessLog.withLock { log in
            if let log { return log }
            let opened = try AccessLog(directory: storePath)
            log = opened
            return opened
        }
    }

    /// Brings the read models up to the log's head, so a report reflects every
    /// event committed before the request arrived.
    public func catchUp() throws {
        let context = try self.context
        try catchingUp.withLock { _ in try context.catchUp() }
    }

    private func record(_ caller: Caller, command: String, subject: String, reason: String?, persons: some Collection<String>, shown: Bool) throws {
        try access().record(actor: caller.name, command: command, subject: subject, reason: reason, persons: persons, personIdsShown: shown)
    }

    // MARK: One case

    /// One case as its status read model has it, with its open deviations today.
    public struct CaseView: Sendable {
        public var stream: String
        public var version: UInt64
        public var state: CaseState
        /// The facts as `case --json` names them (person id masked unless shown).
        public var facts: [JSONValue.Member]
        public var open: [DeviationRow]

        public var json: JSONValue {
            let deviations = JSONValue.array(open.map {
                .object(["rule": .string($0.rule.rawValue), "since": .string($0.since.description), "ref": $0.ref.map(JSONValue.string) ?? .null])
            })
            // The summary's own count of open deviations gives way to today's.
            return .object([.init("stream", .string(stream)), .init("version", .integer(version))] + facts.filter { $0.key != "openDeviations" }
                           + [.init("openDeviations", .integer(open.count)), .init("deviations", deviations)])
        }
    }

    /// `case STREAM`: refused as not found when there is no such case or it is outside the caller's scope.
    public func caseStatus(_ stream: String, caller: Caller, reason: String?, showPersonId: Bool, today: BusinessDate = .today()) throws -> CaseView {
        let context = try self.context
        try AccessRules.checkRead(.caseStatus, by: caller)
        try AccessRules.checkShowPersonId(showPersonId, by: caller)
        guard let status = try context.views.value(StatusRecord.self, projection: CaseStatusProjection.name, key: stream),
              let state = status.caseState, AccessRules.mayRead(case: state, by: caller) else {
            throw AccessDenied.noCase(stream)
        }
        let personId = try PersonalData.personId(ofCase: stream, in: context.log)
        try record(caller, command: "case", subject: stream, reason: reason,
                   persons: personId.flatMap { PersonID($0)?.digits }.map { [$0] } ?? [], shown: showPersonId)
        let open = try context.deviations.open(asOf: today, stream: stream)
        return CaseView(stream: stream, version: status.version, state: state,
                        facts: Summary.of(state, personId: personId, showPersonID: showPersonId), open: open)
    }

    // MARK: The case list

    /// What `cases` lists.
    public struct CaseFilter: Sendable, Hashable {
        public var status: CaseStatus?
        public var coordinator: String?
        public var unit: String?
        public var appealLate = false

        public init(status: CaseStatus? = nil, coordinator: String? = nil, unit: String? = nil, appealLate: Bool = false) {
            self.status = status
            self.coordinator = coordinator
            self.unit = unit
            self.appealLate = appealLate
        }

        var description: String {
            let parts = [status.map { "status=\($0.rawValue)" }, coordinator.map { "coordinator=\($0)" }, unit.map { "unit=\($0)" },
                         appealLate ? "appeal-late" : nil].compactMap { $0 }
            return parts.isEmpty ? "all cases" : parts.joined(separator: " ")
        }
    }

    /// One row of the case list.
    public struct CaseRow: Sendable {
        public var stream: String
        public var version: UInt64
        public var state: CaseState
        /// As shown: masked unless asked for and allowed; nil for a role that sees no person ids.
        public var personId: String?
    }

    /// `cases`: only the cases within the caller's scope; a unit manager's
    /// without person ids.
    public func cases(_ filter: CaseFilter, caller: Caller, reason: String?, showPersonId: Bool) throws -> [CaseRow] {
        let context = try self.context
        try AccessRules.checkRead(.caseList, by: caller)
        try AccessRules.checkShowPersonId(showPersonId, by: caller)
        try context.checkUnit(filter.unit)
        if caller.role == .unitManager, let unit = filter.unit, unit != caller.unit {
            throw AccessDenied.forbidden("a unit manager reads the cases of their own unit only")
        }
        let found = try context.views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "case-").compactMap { stream, record -> CaseRow? in
            guard let s = record.caseState, AccessRules.mayRead(case: s, by: caller) else { return nil }
            if filter.appealLate, !s.appeals.contains(where: \.late) { return nil }
            if let status = filter.status, s.status != status { return nil }
            if let coordinator = filter.coordinator, s.activeCoordinator != coordinator { return nil }
            if let unit = filter.unit, s.unit != unit { return nil }
            return CaseRow(stream: stream, version: record.version, state: s, personId: nil)
        }
        guard caller.role != .unitManager else {
            return found  // no person id: nothing personal read
        }
        // The read models hold no person id: each is opened from its case's application.
        var rows = found
        var persons: [String] = []
        for i in rows.indices {
            guard let id = try PersonalData.personId(ofCase: rows[i].stream, in: context.log) else { rows[i].personId = ""; continue }
            if let digits = PersonID(id)?.digits { persons.append(digits) }
            rows[i].personId = showPersonId ? id : PersonID.mask(id)
        }
        try record(caller, command: "cases", subject: filter.description, reason: reason, persons: persons, shown: showPersonId)
        return rows
    }

    /// The case list as `cases --json` prints it.
    public static func json(_ rows: [CaseRow]) -> JSONValue {
        .object(["cases": .array(rows.map { row in
            let s = row.state
            return .object([
                "stream": .string(row.stream), "status": .string(s.status?.rawValue ?? ""),
                "personId": row.personId.map(JSONValue.string) ?? .null, "unit": s.unit.map(JSONValue.string) ?? .null,
                "coordinatorId": s.activeCoordinator.map(JSONValue.string) ?? .null,
                "receivedOn": s.receivedOn.map { .string($0.description) } ?? .null, "version": .integer(row.version),
                "appealLate": .bool(s.appeals.contains(where: \.late)),
                "decidedOn": s.decisions.first.map { .string($0.decidedOn.description) } ?? .null,
            ])
        })])
    }

    // MARK: Reports

    /// The deviation report's question.
    public enum DeviationQuestion: Sendable, Hashable {
        /// Open on a date.
        case open(asOf: BusinessDate)
        /// Ended in a period.
        case closed(from: BusinessDate, to: BusinessDate)
    }

    /// `deviations`: a coordinator sees those of their cases, a unit manager those of their unit.
    public func deviations(_ question: DeviationQuestion, rule: DeviationRule?, unit: String?, coordinator: String?, caller: Caller) throws -> [DeviationRow] {
        let context = try self.context
        try AccessRules.checkRead(.deviations, by: caller)
        try context.checkUnit(unit)
        var unit = unit, coordinator = coordinator
        switch caller.role {
        case .unitManager?:
            if let unit, unit != caller.unit { throw AccessDenied.forbidden("a unit manager reads the report of their own unit only") }
            unit = caller.unit ?? "\u{0}"
        case .coordinator?:
            if let coordinator, coordinator != caller.coordinatorId { throw AccessDenied.forbidden("a coordinator reads the deviations of their own cases only") }
            coordinator = caller.coordinatorId ?? "\u{0}"
        default:
            break
        }
        switch question {
        case .open(let date):
            return try context.deviations.open(asOf: date, rule: rule, unit: unit, coordinator: coordinator)
        case .closed(let from, let to):
            guard from <= to else { throw LogError(.invalidShape, "closedFrom is after closedTo") }
            return try context.deviations.closed(from: from, to: to, rule: rule, unit: unit, coordinator: coordinator)
        }
    }

    /// The deviation report as `deviations --json` prints it.
    public static func json(_ rows: [DeviationRow], question: DeviationQuestion) -> JSONValue {
        let closed: Bool
        let header: [JSONValue.Member]
        switch question {
        case .open(let date):
            closed = false
            header = [.init("asOf", .string(date.description))]
        case .closed(let from, let to):
            closed = true
            header = [.init("from", .string(from.description)), .init("to", .string(to.description))]
        }
        let list = JSONValue.array(rows.map { r in
            var m: [JSONValue.Member] = [
                .init("stream", .string(r.stream)), .init("rule", .string(r.rule.rawValue)),
                .init("since", .string(r.since.description)), .init("ref", r.ref.map(JSONValue.string) ?? .null),
                .init("coordinatorId", r.coordinatorId.map(JSONValue.string) ?? .null),
                .init("unit", r.unit.map(JSONValue.string) ?? .null),
            ]
            if let end = r.end { m.append(.init("endedOn", .string(end.description))) }
            m.append(.init("daysOpen", .integer(r.daysOpen)))
            return .object(m)
        })
        return .object(header + [.init(closed ? "closed" : "deviations", list)])
    }

    /// The coordinator workload: a coordinator sees their own row, a unit manager their unit's.
    public struct Workload: Sendable {
        public var asOf: BusinessDate
        public var rows: [WorkloadRow]
        public var units: [UnitWorkload]

        public var json: JSONValue {
            .object([
                "asOf": .string(asOf.description),
                "coordinators": .array(rows.map { r in
                    .object([
                        "coordinatorId": .string(r.coordinatorId), "unit": .string(r.unit), "activeCases": .integer(r.activeCases),
                        "trained": .bool(r.trained), "meetingsLast90Days": .integer(r.meetingsLast90Days),
                        "meetingsScheduledAhead": .integer(r.meetingsScheduledAhead), "openDeviations": .integer(r.openDeviations),
                        "deactivated": .bool(r.deactivated),
                    ])
                }),
                "units": .array(units.map { u in
                    .object([
                        "unit": .string(u.unit), "coordinators": .integer(u.coordinators), "activeCases": .integer(u.activeCases),
                        "meetingsLast90Days": .integer(u.meetingsLast90Days), "meetingsScheduledAhead": .integer(u.meetingsScheduledAhead),
                        "openDeviations": .integer(u.openDeviations), "trained": .integer(u.trained),
                    ])
                }),
            ])
        }
    }

    /// `workload`.
    public func workload(asOf date: BusinessDate, unit: String?, caller: Caller) throws -> Workload {
        let context = try self.context
        try AccessRules.checkRead(.workload, by: caller)
        try context.checkUnit(unit)
        var unit = unit
        if caller.role == .unitManager {
            if let unit, unit != caller.unit { throw AccessDenied.forbidden("a unit manager reads the workload of their own unit only") }
            unit = caller.unit ?? "\u{0}"
        }
        var rows = try WorkloadQuery(deviations: context.deviations).rows(asOf: date, unit: unit)
        if caller.role == .coordinator {
            rows = rows.filter { $0.coordinatorId == caller.coordinatorId }
            return Workload(asOf: date, rows: rows, units: [])  // their own row, not their colleagues' totals
        }
        return Workload(asOf: date, rows: rows, units: UnitWorkload.totals(rows))
    }

    // MARK: The access log

    /// Who has read a person's data (`person`), or every entry of one command.
    public func accessLogEntries(person: String?, command: String?, from: BusinessDate?, caller: Caller) throws -> [AccessLog.Entry] {
        try AccessRules.checkRead(.accessLog, by: caller)
        var entries: [AccessLog.Entry]
        if let person {
            guard PersonID(person) != nil else { throw LogError(.invalidPersonId, "person: not a valid fødselsnummer or D-nummer") }
            entries = try access().entries(forPerson: person)
        } else {
            entries = try access().allEntries().filter { $0.command == command }
        }
        if let from { entries = entries.filter { $0.at.prefix(10) >= from.description } }
        return entries
    }

    /// The entries as `access-log --json` prints them.
    public static func json(_ entries: [AccessLog.Entry], forPerson: Bool) -> JSONValue {
        let rows: [JSONValue] = entries.map { e in
            var members: [JSONValue.Member] = [
                .init("at", .string(e.at)), .init("actor", .string(e.actor)), .init("command", .string(e.command)),
                .init("subject", .string(e.subject)), .init("reason", e.reason.map(JSONValue.string) ?? .null),
                .init("personIdsShown", e.personIdsShown.map(JSONValue.bool) ?? .null),
            ]
            if e.command == "erase" { members.append(.init("cases", .array(e.subject.split(separator: " ").map { .string(String($0)) }))) }
            return .object(members)
        }
        return .object([.init(forPerson ? "reads" : "entries", .array(rows))])
    }
}

extension Reads {
    /// A coordinator's agenda: what is overdue on their active cases on
    /// `date`, and what falls due in the `within` days after it, oldest first.
    public func agenda(caller: Caller, asOf date: BusinessDate, within days: Int) throws -> [DeviationQuery.DueItem] {
        guard caller.role == .coordinator, let id = caller.coordinatorId else {
            throw AccessDenied.forbidden("the agenda is a coordinator's")
        }
        return try context.deviations.due(coordinator: id, asOf: date, within: days)
    }
}
