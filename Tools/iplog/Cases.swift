import ArgumentParser
import CaseStatus
import Deviations
import Domain
import EventLog
import JSON
import ProjectionKit

extension IPLog {
    struct Case: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "case",
            abstract: "The status of one case: state, person, unit, coordinator, consent, decision, plan, meetings, open deviations."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var access: AccessOptions

        @Argument(help: "The case stream, e.g. case-000123.")
        var stream: String

        @Flag(help: "Show the person id in full (the default shows only the birth date).")
        var showPersonId = false

        func run() throws {
            let out = StandardOutput()
            do {
                try StreamArgument.check(stream)
                let context = try ReportContext(storeOptions)
                guard let record = try context.views.value(StatusRecord.self, projection: CaseStatusProjection.name, key: stream),
                      let state = record.caseState else {
                    throw LogError(.unknownStream, "\(stream) is not a case in this store")
                }
                let personId = try PersonalData.personId(ofCase: stream, in: context.log)
                try access.record(store: storeOptions.path, command: "case", subject: stream,
                                  persons: personId.flatMap { PersonID($0)?.digits }.map { [$0] } ?? [], personIdsShown: showPersonId)
                let today = BusinessDate.today()
                let open = try context.deviations.open(asOf: today).filter { $0.stream == stream }
                let facts = Summary.of(state, personId: personId, showPersonID: showPersonId)
                let deviations = JSONValue.array(open.map { .object(["rule": .string($0.rule.rawValue), "since": .string($0.since.description), "ref": $0.ref.map(JSONValue.string) ?? .null]) })
                if output.json {
                    out.json(.object([.init("stream", .string(stream)), .init("version", .integer(record.version))] + facts
                                     + [.init("openDeviations", .integer(open.count)), .init("deviations", deviations)]))
                } else {
                    var table = Table(headers: ["", ""])
                    let shown = facts.filter { $0.key != "openDeviations" && $0.key != "appeals" }
                    let appeals: String = state.appeals.isEmpty ? "none" : state.appeals.map(Self.describe).joined(separator: "; ")
                    let deviationText: [String] = open.map { row in "\(row.rule.rawValue) since \(row.since)" + (row.ref.map { " (\($0))" } ?? "") }
                    table.rows = [["stream", stream], ["version", String(record.version)]]
                    table.rows += shown.map { [$0.key, display($0.value)] }
                    table.rows.append(["appeals", appeals])
                    table.rows.append(["open deviations", open.isEmpty ? "none" : deviationText.joined(separator: "; ")])
                    out.line(table.render(header: false))
                }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }

    struct Cases: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cases",
            abstract: "List cases, optionally by status, coordinator or unit.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var format: ReportFormat
        @OptionGroup var access: AccessOptions

        @Option(help: "Only cases with this status: received, assessed, decided, active, closed or denied.")
        var status: CaseStatus?

        @Option(help: "Only cases where this coordinator (e.g. 0042) is active.")
        var coordinator: String?

        @Option(help: "Only cases of this unit.")
        var unit: String?

        @Flag(help: "Only cases with an appeal received more than four weeks after the decision was sent (for the case office to check: pbrl §7-5, fvl §30–31).")
        var appealLate = false

        @Flag(help: "Show person ids in full.")
        var showPersonId = false

        func run() throws {
            let out = StandardOutput()
            do {
                let context = try ReportContext(storeOptions)
                try context.checkUnit(unit)
                let rows = try context.views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "case-").compactMap { stream, record -> (String, UInt64, CaseState)? in
                    guard let s = record.caseState else { return nil }
                    if appealLate, !s.appeals.contains(where: \.late) { return nil }
                    if let status, s.status != status { return nil }
                    if let coordinator, s.activeCoordinator != coordinator { return nil }
                    if let unit, s.unit != unit { return nil }
                    return (stream, record.version, s)
                }
                // The read models hold no person id: each is opened from its case's application.
                var personIds: [String: String] = [:]
                for (stream, _, _) in rows { personIds[stream] = try PersonalData.personId(ofCase: stream, in: context.log) }
                let filters = [status.map { "status=\($0.rawValue)" }, coordinator.map { "coordinator=\($0)" }, unit.map { "unit=\($0)" },
                               appealLate ? "appeal-late" : nil].compactMap { $0 }
                try access.record(store: storeOptions.path, command: "cases", subject: filters.isEmpty ? "all cases" : filters.joined(separator: " "),
                                  persons: personIds.values.compactMap { PersonID($0)?.digits }, personIdsShown: showPersonId)
                func person(_ stream: String, full: Bool) -> String { personIds[stream].map { full ? $0 : PersonID.mask($0) } ?? "" }
                if format.json {
                    out.json(.object(["cases": .array(rows.map { stream, version, s in
                        .object([
                            "stream": .string(stream), "status": .string(s.status?.rawValue ?? ""),
                            "personId": .string(person(stream, full: showPersonId)), "unit": s.unit.map(JSONValue.string) ?? .null,
                            "coordinatorId": s.activeCoordinator.map(JSONValue.string) ?? .null,
                            "receivedOn": s.receivedOn.map { .string($0.description) } ?? .null, "version": .integer(version),
                            "appealLate": .bool(s.appeals.contains(where: \.late)),
                            "decidedOn": s.decisions.first.map { .string($0.decidedOn.description) } ?? .null,
                        ])
                    })]))
                } else if format.delimited {
                    format.start(out)
                    out.line(format.row(["stream", "status", "personId", "unit", "coordinatorId", "receivedOn", "version"]))
                    for (stream, version, s) in rows {
                        out.line(format.row([stream, s.status?.rawValue ?? "", person(stream, full: showPersonId), s.unit ?? "",
                                          s.activeCoordinator ?? "", s.receivedOn?.description ?? "", String(version)]))
                    }
                } else {
                    var table = Table(headers: ["case", "status", "person", "unit", "coordinator", "received", "version"], rightAligned: [6])
                    table.rows = rows.map { stream, version, s in
                        [stream, s.status?.rawValue ?? "", person(stream, full: showPersonId), s.unit ?? "", s.activeCoordinator ?? "–",
                         s.receivedOn?.description ?? "", String(version)]
                    }
                    out.line(table.render())
                    out.line(plural(rows.count, "case"))
                }
            } catch {
                throw fail(error, json: format.json, output: out)
            }
        }
    }
}

extension CaseStatus: ExpressibleByArgument {}

/// A JSON value as a person reads it in a table.
func display(_ value: JSONValue) -> String {
    switch value {
    case .null: "–"
    case .string(let s): s
    case .array(let items): items.isEmpty ? "none" : items.map(display).joined(separator: ", ")
    case .object(let members): members.map { "\($0.key) \(display($0.value))" }.joined(separator: ", ")
    default: value.jsonText
    }
}

extension IPLog.Case {
    /// An appeal as the case office reads it, with the four weeks of pbrl §7-5.
    static func describe(_ appeal: CaseState.Appeal) -> String {
        var text = "received \(appeal.receivedOn)"
        if let days = appeal.daysSinceDecisionSent {
            text += ", \(days) days after the decision was sent"
            text += appeal.late ? " (LATE: past the four weeks; check when the person learnt of the decision, fvl §30–31)" : " (in time)"
        } else {
            text += " (no decision sent: no deadline runs)"
        }
        if let forwarded = appeal.forwardedOn { text += ", forwarded \(forwarded)" }
        if let decided = appeal.decidedOn { text += ", decided \(decided)" + (appeal.outcome.map { " (\($0.rawValue))" } ?? "") }
        return text
    }
}
