import ArgumentParser
import Domain
import EventLog
import JSON

extension IPLog {
    struct Types: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "types",
            abstract: "The event catalogue: every event type, its stream, its fields and an example line.",
            discussion: """
                Every field is required unless marked ?; a field not listed is refused. \
                The rules an event must also obey are in docs/RULES.md.
                """
        )

        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("Only this type, with its example line (e.g. MeetingHeld).", valueName: "type"))
        var type: String?

        func run() throws {
            let out = StandardOutput()
            do {
                var types = CatalogueSchema.types
                if let type {
                    guard let found = types.first(where: { $0.name == type }) else {
                        let hint = Envelope.closest(to: type, among: types.map(\.name)).map { " (did you mean `\($0)`?)" } ?? ""
                        throw LogError(.invalidShape, "\(type.prefix(64)) is not an event type of the catalogue\(hint)")
                    }
                    types = [found]
                }
                if output.json {
                    out.json(.object(["types": .array(types.map { t in
                        .object([
                            .init("type", .string(t.name)), .init("stream", .string(t.stream == .case ? "case" : "coordinator")),
                            .init("schemaVersion", .integer(t.schemaVersion)),
                            .init("fields", .array(t.fields.map(Self.json))), .init("example", CatalogueSchema.example(t)),
                        ])
                    })]))
                } else {
                    for t in types {
                        let version = t.schemaVersion > 1 ? ", schema version \(t.schemaVersion); earlier versions are still read" : ""
                        out.line("\(t.name)  (\(t.stream == .case ? "case-…" : "coordinator-…") stream\(version))")
                        for field in t.fields { out.line(Self.describe(field, indent: "  ")) }
                        if type != nil { out.line("  example: " + CatalogueSchema.example(t).jsonText) }
                    }
                    if type == nil { out.line("\(plural(types.count, "type")); `iplog types TYPE` shows one with an example line.") }
                }
                try out.finish()
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }

        static func describe(_ field: CatalogueSchema.Field, indent: String) -> String {
            let name = indent + field.name + (field.required ? "" : "?")
            switch field.kind {
            case .string: return name + ": text"
            case .date: return name + ": date (YYYY-MM-DD)"
            case .bool: return name + ": true or false"
            case .personId: return name + ": fødselsnummer or D-nummer (11 digits)"
            case .choice(let values): return name + ": one of " + values.joined(separator: ", ")
            case .choices(let values, let nonEmpty): return name + ": a list of " + values.joined(separator: ", ") + (nonEmpty ? " (at least one)" : "")
            case .strings: return name + ": a list of texts"
            case .objects(let fields): return ([name + ": a list of objects with"] + fields.map { describe($0, indent: indent + "    ") }).joined(separator: "\n")
            }
        }

        static func json(_ field: CatalogueSchema.Field) -> JSONValue {
            var members: [JSONValue.Member] = [.init("name", .string(field.name)), .init("required", .bool(field.required))]
            switch field.kind {
            case .string: members.append(.init("kind", "text"))
            case .date: members.append(.init("kind", "date"))
            case .bool: members.append(.init("kind", "bool"))
            case .personId: members.append(.init("kind", "personId"))
            case .choice(let values): members += [.init("kind", "choice"), .init("values", .array(values.map(JSONValue.string)))]
            case .choices(let values, let nonEmpty):
                members += [.init("kind", "choices"), .init("values", .array(values.map(JSONValue.string))), .init("nonEmpty", .bool(nonEmpty))]
            case .strings: members.append(.init("kind", "texts"))
            case .objects(let fields): members += [.init("kind", "objects"), .init("fields", .array(fields.map(json)))]
            }
            return .object(members)
        }
    }
}
