import Application
import ArgumentParser
import EventLog
import JSON

extension IPLog {
    struct Units: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "units",
            abstract: "The municipality's units, with their cases (open and all) and coordinators.",
            discussion: """
                The units config.json lists ("units": [...]; an application or a coordinator's \
                registration must then name one of them, else [unknownUnit]) and those the \
                cases and coordinators name. A --unit filter must name one of these.
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let out = StandardOutput()
            do {
                let context = try ReportContext(storeOptions)
                let units = try context.units()
                let listing = context.config.units != nil
                if output.json {
                    out.json(.object(["units": .array(units.map { u in
                        .object([
                            .init("unit", .string(u.unit)), .init("cases", .integer(u.cases)), .init("openCases", .integer(u.openCases)),
                            .init("coordinators", .integer(u.coordinators)), .init("listed", .bool(u.listed)),
                        ])
                    })]))
                } else {
                    out.line(listing ? "Units (config.json lists \(plural(context.config.units!.count, "unit"))):" : "Units the cases and coordinators name (config.json lists none):")
                    var table = Table(headers: ["unit", "open cases", "cases", "coordinators"] + (listing ? ["in config.json"] : []), rightAligned: [1, 2, 3])
                    table.rows = units.map { [$0.unit, String($0.openCases), String($0.cases), String($0.coordinators)] + (listing ? [$0.listed ? "yes" : "NO"] : []) }
                    out.line(table.render())
                }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
