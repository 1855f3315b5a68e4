import Application
import ArgumentParser
import CaseStatus
import CoordinatorWorkload
import Deviations
import Domain
import EventLog
import Foundation
import JSON
import ProjectionKit
import ReadModels

extension IPLog {
    struct Projections: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "projections",
            abstract: "Regenerate the read models from the log, or show where each stands.",
            subcommands: [Rebuild.self, Status.self]
        )

        struct Rebuild: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "rebuild",
                abstract: "Regenerate read models from position 1 into a fresh set, then swap, so no reader sees a half-built one.",
                discussion: "Names: caseStatus, deviations, coordinatorWorkload (default: all). Appends may go on meanwhile."
            )

            @OptionGroup var storeOptions: StoreOptions
            @OptionGroup var output: OutputOptions

            @Argument(help: "The read models to rebuild (default: all).")
            var names: [String] = []

            func validate() throws {
                for name in names where !ReportContext.projectionNames.contains(name) {
                    throw ValidationError("No read model \(name); there are \(ReportContext.projectionNames.joined(separator: ", ")).")
                }
            }

            func run() throws {
                let out = StandardOutput()
                do {
                    let context = try ReportContext(storeOptions, catchUp: false)
                    let head = try context.log.head().position
                    let chosen = names.isEmpty ? ReportContext.projectionNames : names
                    let showProgress = standardErrorIsTerminal
                    var results: [(String, Checkpoint)] = []
                    func progress(_ name: String) -> (UInt64) -> Void {
                        { position in
                            if showProgress { FileHandle.standardError.write(Data("\r\(name): \(position) of \(head) events".utf8)) }
                        }
                    }
                    // All three in one pass sharing one state per case; fewer, each on its own.
                    let checkpoints: [String: Checkpoint]
                    if Set(chosen) == Set(ReadModels.names) {
                        checkpoints = try ReadModels.rebuild(context.runner, progress: progress("rebuild"))
                    } else {
                        var each: [String: Checkpoint] = [:]
                        for name in chosen {
                            each[name] = switch name {
                            case CaseStatusProjection.name: try context.runner.rebuild(CaseStatusProjection(), progress: progress(name))
                            case DeviationsProjection.name: try context.runner.rebuild(DeviationsProjection(), progress: progress(name))
                            default: try context.runner.rebuild(CoordinatorWorkloadProjection(), progress: progress(name))
                            }
                        }
                        checkpoints = each
                    }
                    if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
                    for name in chosen {
                        context.warn(name, checkpoints[name]!)
                        results.append((name, checkpoints[name]!))
                    }
                    if output.json {
                        out.json(.object([
                            "projections": .array(results.map { .object(["name": .string($0.0), "position": .integer($0.1.position)]) }),
                            "events": .integer(head),
                        ]))
                    } else {
                        for (name, checkpoint) in results { out.line("Rebuilt \(name) up to position \(checkpoint.position).") }
                    }
                } catch {
                    throw fail(error, json: output.json, output: out)
                }
            }
        }

        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "status",
                abstract: "Each read model's checkpoint against the log's head, and why it stopped, if it did.")

            @OptionGroup var storeOptions: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let out = StandardOutput()
                do {
                    let context = try ReportContext(storeOptions, catchUp: false)
                    let head = try context.log.head().position
                    let rows = try ReportContext.projectionNames.map { ($0, try context.views.checkpoint($0)) }
                    if output.json {
                        out.json(.object([
                            "head": .integer(head),
                            "projections": .array(rows.map { name, cp in
                                .object([
                                    "name": .string(name), "position": .integer(cp.position), "behind": .integer(head - min(head, cp.position)),
                                    "stoppedAt": cp.stoppedAt.map { JSONValue.integer($0) } ?? .null, "reason": cp.reason.map(JSONValue.string) ?? .null,
                                ])
                            }),
                        ]))
                    } else {
                        var table = Table(headers: ["read model", "position", "behind", "state"], rightAligned: [1, 2])
                        table.rows = rows.map { name, cp in
                            [name, String(cp.position), String(head - min(head, cp.position)),
                             cp.stoppedAt.map { "stopped at \($0): \(cp.reason ?? "")" } ?? (cp.position >= head ? "current" : "behind (caught up by the next report)")]
                        }
                        out.line("log head: position \(head)")
                        out.line(table.render())
                    }
                } catch {
                    throw fail(error, json: output.json, output: out)
                }
            }
        }
    }

    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "The municipality's settings in force.",
            subcommands: [Show.self]
        )

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Print the deviation periods in force (the defaults of docs/RULES.md, changed by the store's config.json)."
            )

            @OptionGroup var storeOptions: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let out = StandardOutput()
                do {
                    let config = try DeviationConfig.load(store: storeOptions.path)
                    let file = DeviationConfig.path(store: storeOptions.path)
                    let fromFile = FileManager.default.fileExists(atPath: file)
                    if output.json {
                        out.json(config.json)
                    } else {
                        out.line(fromFile ? "Periods in force (from \(file)):" : "Periods in force (the defaults; \(file) would change them):")
                        var table = Table(headers: ["rule", "period", "default"])
                        table.rows = DeviationConfig.configurable.map { [$0.rawValue, config.periods[$0]!.description, DeviationConfig.defaults.periods[$0]!.description] }
                        out.line(table.render())
                    }
                } catch {
                    throw fail(error, json: output.json, output: out)
                }
            }
        }
    }

    struct RegistryExtractCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "registry-extract",
            abstract: "The yearly extract for the municipal patient and user register (KPR), as CSV.",
            discussion: "Per person who had a case in the year: whether they had an individual plan and a coordinator in it. Due by 15 January. It holds full person ids: write it where only the register's sender can read it (--out creates the file with mode 0600)."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var access: AccessOptions

        @Option(help: "The year.")
        var year: Int

        @Option(help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.", valueName: "file"))
        var out: String?

        func validate() throws {
            guard (1900...9999).contains(year) else { throw ValidationError("--year must be a year such as 2025.") }
        }

        func run() throws {
            let output: StandardOutput
            do {
                output = try StandardOutput(path: out)
            } catch {
                throw fail(error, json: self.output.json)
            }
            do {
                let rows = try Reads(context: try ReportContext(storeOptions)).registryExtract(year: year, caller: access.caller, reason: access.reason)
                if self.output.json {
                    output.json(.object(["year": .integer(year), "persons": .array(rows.map {
                        .object(["personId": .string($0.personId), "individualPlan": .bool($0.individualPlan), "coordinator": .bool($0.coordinator)])
                    })]))
                } else {
                    output.line(csvLine(["personId", "year", "individualPlan", "coordinator"]))
                    for r in rows { output.line(csvLine([r.personId, String(r.year), String(r.individualPlan), String(r.coordinator)])) }
                }
                try output.finish()
                if out != nil { printError("Wrote \(rows.count) persons for \(year).") }
            } catch {
                throw fail(error, json: self.output.json, output: output)
            }
        }
    }
}
