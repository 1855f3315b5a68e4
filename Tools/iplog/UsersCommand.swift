import Application
import ArgumentParser
import EventLog
import JSON

extension Role: ExpressibleByArgument {}

extension IPLog {
    struct UsersCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "users",
            abstract: "The service's users and their API tokens.",
            subcommands: [Add.self, List.self, Revoke.self]
        )

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a user with a role; prints their token once (the store keeps only its hash).",
                discussion: "Roles: caseOffice, coordinatingUnit, coordinator (with --coordinator), unitManager (with --unit), auditor, integration. What each may do: docs/SERVICE.md."
            )
            @OptionGroup var storeOptions: StoreOptions
            @OptionGroup var output: OutputOptions

            @Argument(help: "The user's name: what the access log and the events they append record.")
            var name: String

            @Option(help: "caseOffice, coordinatingUnit, coordinator, unitManager, auditor or integration.")
            var role: Role

            @Option(help: "A unit manager's unit.")
            var unit: String?

            @Option(help: ArgumentHelp("A coordinator's id (0042 of coordinator-0042).", valueName: "id"))
            var coordinator: String?

            func run() throws {
                let out = StandardOutput()
                do {
                    _ = try storeOptions.open(create: false)
                    let (user, token) = try Users(store: storeOptions.path).add(name: name, role: role, unit: unit, coordinatorId: coordinator)
                    if output.json {
                        out.json(.object(["name": .string(user.name), "role": .string(user.role.rawValue), "token": .string(token)]))
                    } else {
                        out.line("Added \(user.name) (\(user.role.rawValue)). Their token, shown this once:")
                        out.line(token)
                    }
                    try out.finish()
                } catch {
                    throw fail(error, json: output.json, output: out)
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the users (never their tokens).")
            @OptionGroup var storeOptions: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let out = StandardOutput()
                do {
                    _ = try storeOptions.open(create: false)
                    let users = try Users(store: storeOptions.path).current()
                    if output.json {
                        out.json(.object(["users": .array(users.map { u in
                            .object([
                                "name": .string(u.name), "role": .string(u.role.rawValue), "unit": u.unit.map(JSONValue.string) ?? .null,
                                "coordinatorId": u.coordinatorId.map(JSONValue.string) ?? .null, "created": .string(u.created),
                                "revoked": u.revoked.map(JSONValue.string) ?? .null,
                            ])
                        })]))
                    } else {
                        var table = Table(headers: ["name", "role", "unit", "coordinator", "created", "revoked"])
                        table.rows = users.map { [$0.name, $0.role.rawValue, $0.unit ?? "–", $0.coordinatorId ?? "–", $0.created, $0.revoked ?? "–"] }
                        out.line(users.isEmpty ? "No users." : table.render())
                    }
                    try out.finish()
                } catch {
                    throw fail(error, json: output.json, output: out)
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a user's token: it stops working at once, also in a running service.")
            @OptionGroup var storeOptions: StoreOptions
            @OptionGroup var output: OutputOptions

            @Argument(help: "The user's name.")
            var name: String

            func run() throws {
                let out = StandardOutput()
                do {
                    _ = try storeOptions.open(create: false)
                    let user = try Users(store: storeOptions.path).revoke(name: name)
                    if output.json {
                        out.json(.object(["name": .string(user.name), "revoked": .string(user.revoked ?? "")]))
                    } else {
                        out.line("Revoked \(user.name)'s token.")
                    }
                    try out.finish()
                } catch {
                    throw fail(error, json: output.json, output: out)
                }
            }
        }
    }
}
