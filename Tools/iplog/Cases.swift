import Application
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
                let reads = Reads(context: try ReportContext(storeOptions))
                let view = try reads.caseStatus(stream, caller: access.caller, reason: access.reason, showPersonId: showPersonId)
                if output.json {
                    out.json(view.json)
                } else {
                    var table = Table(headers: ["", ""])
                    let shown = view.facts.filter { $0.key != "openDeviations" && $0.key != "appeals" }
                    let appeals: String = view.state.appeals.isEmpty ? "none" : view.state.appeals.map(Self.describe).joined(separator: "; ")
                    let deviationText: [String] = view.open.map { row in "\(row.rule.rawValue) since \(row.since)" + (row.ref.map { " (\($0))" } ?? "") }
                    table.rows = [["stream", stream], ["version", String(view.version)]]
                    table.rows += shown.map { [$0.key, display($0.value)] }
                    table.rows.append(["appeals", appeals])
                    table.rows.append(["open deviations", view.open.isEmpty ? "none" : deviationText.joined(separator: "; ")])
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
                let reads = Reads(context: try ReportContext(storeOptions))
                let filter = Reads.CaseFilter(status: status, coordinator: coordinator, unit: unit, appealLate: appealLate)
                let rows = try reads.cases(filter, caller: access.caller, reason: access.reason, showPersonId: showPersonId)
                if format.json {
                    out.json(Reads.json(rows))
                } else if format.delimited {
                    format.start(out)
                    out.line(format.row(["stream", "status", "personId", "unit", "coordinatorId", "receivedOn", "version"]))
                    for row in rows {
                        let s = row.state
                        out.line(format.row([row.stream, s.status?.rawValue ?? "", row.personId ?? "", s.unit ?? "",
                                          s.activeCoordinator ?? "", s.receivedOn?.description ?? "", String(row.version)]))
                    }
                } else {
                    var table = Table(headers: ["case", "status", "person", "unit", "coordinator", "received", "version"], rightAligned: [6])
                    table.rows = rows.map { row in
                        let s = row.state
                        return [row.stream, s.status?.rawValue ?? "", row.personId ?? "", s.unit ?? "", s.activeCoordinator ?? "–",
                                s.receivedOn?.description ?? "", String(row.version)]
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
