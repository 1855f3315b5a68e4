import Application
import ArgumentParser
import CoordinatorWorkload
import EventLog
import JSON

extension IPLog {
    struct Workload: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workload",
            abstract: "Coordinator workload: per coordinator and per unit, active cases, meetings, open deviations, training.",
            discussion: "Meetings count those held in the 90 days up to the date (both included) on cases where the coordinator was active that day, and those scheduled after it on their active cases."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var format: ReportFormat

        @Option(help: "Only coordinators registered in this unit.")
        var unit: String?

        @Option(help: ArgumentHelp("The report's date (default today).", valueName: "YYYY-MM-DD"))
        var asOf: String?

        func run() throws {
            let out = StandardOutput()
            do {
                let reads = Reads(context: try ReportContext(storeOptions))
                let date = try reportDate(asOf)
                let workload = try reads.workload(asOf: date, unit: unit, caller: .commandLine)
                let (rows, units) = (workload.rows, workload.units)
                if format.json {
                    out.json(workload.json)
                } else if format.delimited {
                    format.start(out)
                    out.line(format.row(["coordinatorId", "unit", "activeCases", "trained", "meetingsLast90Days", "meetingsScheduledAhead", "openDeviations", "deactivated"]))
                    for r in rows {
                        out.line(format.row([r.coordinatorId, r.unit, String(r.activeCases), String(r.trained), String(r.meetingsLast90Days),
                                          String(r.meetingsScheduledAhead), String(r.openDeviations), String(r.deactivated)]))
                    }
                } else {
                    out.line("Coordinator workload on \(date)")
                    var perUnit = Table(headers: ["unit", "coordinators", "active cases", "meetings 90 d", "scheduled", "open deviations", "trained"], rightAligned: [1, 2, 3, 4, 5, 6])
                    perUnit.rows = units.map { u in
                        [u.unit, String(u.coordinators), String(u.activeCases), String(u.meetingsLast90Days),
                         String(u.meetingsScheduledAhead), String(u.openDeviations), String(u.trained)]
                    }
                    out.line()
                    out.line(perUnit.render())
                    var table = Table(headers: ["coordinator", "unit", "active cases", "meetings 90 d", "scheduled", "open deviations", "trained"], rightAligned: [2, 3, 4, 5])
                    table.rows = rows.map { r in
                        [r.coordinatorId + (r.deactivated ? " (deactivated)" : ""), r.unit, String(r.activeCases), String(r.meetingsLast90Days),
                         String(r.meetingsScheduledAhead), String(r.openDeviations), r.trained ? "yes" : "NO"]
                    }
                    out.line()
                    out.line(table.render())
                }
            } catch {
                throw fail(error, json: format.json, output: out)
            }
        }
    }
}
