import Application
import ArgumentParser
import Deviations
import EventLog
import JSON

extension IPLog {
    struct Due: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "due",
            abstract: "A coordinator's agenda: what is overdue and what falls due soon on their active cases.",
            discussion: """
                Meetings (scheduled ones, and the day by which the responsibility group \
                must meet), plan evaluations, action items and minutes on the cases where \
                the coordinator is active, oldest first: everything already overdue, then \
                what falls due in the next --within days. The periods are those in force \
                (`iplog config show`).
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var format: ReportFormat

        @Option(help: "The coordinator, e.g. 0042.")
        var coordinator: String

        @Option(help: "Days ahead to include.")
        var within = 30

        @Option(help: ArgumentHelp("The day to look from (default today).", valueName: "YYYY-MM-DD"))
        var asOf: String?

        func validate() throws {
            guard (0...366).contains(within) else { throw ValidationError("--within must be 0 to 366 days.") }
        }

        static let words: [DeviationQuery.DueItem.What: String] = [
            .meetingScheduled: "meeting scheduled", .meeting: "responsibility group must meet", .evaluation: "plan evaluation",
            .actionItem: "action item", .minutes: "minutes of the meeting",
        ]

        func run() throws {
            let out = StandardOutput()
            do {
                let date = try reportDate(asOf)
                let context = try ReportContext(storeOptions)
                let items = try context.deviations.due(coordinator: coordinator, asOf: date, within: within)
                func days(_ item: DeviationQuery.DueItem) -> Int { date.days(until: item.due) }
                if format.json {
                    out.json(.object([
                        .init("coordinatorId", .string(coordinator)), .init("asOf", .string(date.description)), .init("within", .integer(within)),
                        .init("items", .array(items.map { item in
                            .object([
                                .init("stream", .string(item.stream)), .init("what", .string(item.what.rawValue)),
                                .init("ref", item.ref.map(JSONValue.string) ?? .null), .init("due", .string(item.due.description)),
                                .init("overdue", .bool(item.due < date)), .init("days", .integer(days(item))),
                            ])
                        })),
                    ]))
                } else if format.delimited {
                    format.start(out)
                    out.line(format.row(["due", "what", "case", "ref", "overdue", "days"]))
                    for item in items {
                        out.line(format.row([item.due.description, item.what.rawValue, item.stream, item.ref ?? "", String(item.due < date), String(days(item))]))
                    }
                } else {
                    let overdue = items.filter { $0.due < date }.count
                    out.line("Coordinator \(coordinator) on \(date): \(plural(overdue, "thing")) overdue, \(items.count - overdue) due in the next \(plural(within, "day"))")
                    guard !items.isEmpty else { return }
                    var table = Table(headers: ["due", "", "what", "case", "ref"])
                    table.rows = items.map { item in
                        let n = days(item)
                        let when = n < 0 ? "overdue \(plural(-n, "day"))" : n == 0 ? "today" : "in \(plural(n, "day"))"
                        return [item.due.description, when, Self.words[item.what] ?? item.what.rawValue, item.stream, item.ref ?? ""]
                    }
                    out.line(table.render())
                }
            } catch {
                throw fail(error, json: format.json, output: out)
            }
        }
    }
}
