import ArgumentParser
import EventLog
import Foundation
import JSON
import Service

extension IPLog {
    struct TenantsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tenants",
            abstract: "The stores that `iplog serve --tenants DIR` serves, one per municipality.",
            discussion: """
                Each tenant is a store of its own under DIR (its log, keys, users, config.json \
                and access log), served at /t/NAME/v1/… and /t/NAME/ for the pages. Make its \
                users with `iplog users add … --store DIR/NAME`.
                """,
            subcommands: [Add.self, List.self]
        )

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make a new, empty store for a tenant.")

            @Argument(help: "The tenant's name (lowercase letters, digits and -, e.g. the municipality: oslo, nord-fron).")
            var name: String

            @Option(help: ArgumentHelp("The directory of tenants.", valueName: "dir"))
            var tenants: String

            @OptionGroup var output: OutputOptions

            func run() throws {
                guard Tenants.isValidName(name) else {
                    printError("[invalidShape] tenant name \"\(name)\": lowercase letters, digits and -, 1 to 40, not starting with -")
                    throw ExitCode(Exit.badInput)
                }
                let path = tenants + "/" + name
                if FileManager.default.fileExists(atPath: path) {
                    printError("[invalidShape] tenant \(name) exists already (\(path))")
                    throw ExitCode(Exit.badInput)
                }
                do {
                    try FileManager.default.createDirectory(atPath: tenants, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    _ = try EventStore(directory: path, create: true)
                } catch {
                    throw fail(error, json: output.json)
                }
                if output.json {
                    let out = StandardOutput()
                    out.json(.object(["tenant": .string(name), "store": .string(path)]))
                    try out.finish()
                } else {
                    print("tenant \(name): a new store at \(path); add its users with `iplog users add NAME --role ROLE --store \(path)`")
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the tenants and their stores' sizes.")

            @Option(help: ArgumentHelp("The directory of tenants.", valueName: "dir"))
            var tenants: String

            @OptionGroup var output: OutputOptions

            func run() throws {
                let names: [String]
                do { names = try Tenants.names(in: tenants) } catch let error as ServeError {
                    printError("[\(error.code)] \(error.description)")
                    throw ExitCode(Exit.badInput)
                }
                var rows: [(String, UInt64)] = []
                for name in names {
                    do { rows.append((name, try EventStore(directory: tenants + "/" + name, create: false).head().position)) } catch { throw fail(error, json: output.json) }
                }
                if output.json {
                    let out = StandardOutput()
                    out.json(.object(["tenants": .array(rows.map { .object(["tenant": .string($0.0), "events": .integer($0.1)]) })]))
                    try out.finish()
                } else {
                    var table = Table(headers: ["tenant", "events"], rightAligned: [1])
                    table.rows = rows.map { [$0.0, "\($0.1)"] }
                    print(table.render())
                }
            }
        }
    }
}
