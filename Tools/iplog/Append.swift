import Application
import ArgumentParser
import Deviations
import Domain
import EventLog
import Foundation
import JSON

extension IPLog {
    struct Append: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "append",
            abstract: "Append one event to a stream, after checking it.",
            discussion: """
                Example: iplog append --stream case-000123 --type MeetingHeld \
                --data '{"meetingId": "m-1", "heldOn": "2026-03-14", …}'

                The event types and their fields: iplog types (iplog types MeetingHeld \
                for one, with an example). The rules: docs/RULES.md.

                A refusal writes nothing and prints one line that starts with its \
                code in brackets. A missing store is refused unless --create is \
                given: a mistyped --store must not start a new, empty log.
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: "The stream, e.g. case-000123 or coordinator-0042.")
        var stream: String

        @Option(help: "The event type, e.g. ApplicationReceived.")
        var type: String

        @Option(help: "The payload, a JSON object.")
        var data: String?

        @Option(help: ArgumentHelp("Read the payload from a file (- for standard input).", valueName: "file"))
        var dataFile: String?

        @Option(help: ArgumentHelp("The business date (default: the payload's own date, else today).", valueName: "YYYY-MM-DD"))
        var occurredOn: String?

        @Option(help: "Who records the event (default: $IPLOG_ACTOR, else the OS user).")
        var actor: String?

        @Option(help: ArgumentHelp("The event's id, a UUID; an id already in the log is not written twice.", valueName: "uuid"))
        var eventId: String?

        @Option(help: ArgumentHelp("The version the stream must be at: a number, noStream or any.", valueName: "version"))
        var expectedVersion: String?

        @Flag(help: "Create the store when it does not exist (without it, a missing store is refused).")
        var create = false

        func validate() throws {
            if (data == nil) == (dataFile == nil) {
                throw ValidationError("Give the payload with exactly one of --data and --data-file.")
            }
        }

        /// What the parsed options ask for.
        var request: AppendRequest {
            AppendRequest(store: storeOptions.store, json: output.json, stream: stream, type: type, data: data,
                          dataFile: dataFile, occurredOn: occurredOn, actor: actor, eventId: eventId,
                          expectedVersion: expectedVersion, create: create)
        }

        func run() throws { try request.run() }
    }
}

extension IPLog {
    /// What `iplog append` is asked to do, however its command line was read.
    struct AppendRequest: Equatable {
        var store: String?
        var json = false
        var stream: String
        var type: String
        var data: String?
        var dataFile: String?
        var occurredOn: String?
        var actor: String?
        var eventId: String?
        var expectedVersion: String?
        var create = false

        func run() throws {
            let out = StandardOutput()
            do {
                let payloadText: [UInt8]
                if let data {
                    payloadText = Array(data.utf8)
                } else if dataFile == "-" {
                    payloadText = Array(FileHandle.standardInput.readDataToEndOfFile())
                } else {
                    guard let contents = FileManager.default.contents(atPath: dataFile!) else {
                        throw LogError(.invalidShape, "--data-file: cannot read \(dataFile!)")
                    }
                    payloadText = Array(contents)
                }
                let payload: JSONValue
                do { payload = try JSONParser.parse(payloadText) } catch {
                    throw LogError(.invalidShape, "field data: malformed JSON: \(error)")
                }
                var envelope: [JSONValue.Member] = [.init("stream", .string(stream)), .init("type", .string(type)), .init("data", payload)]
                if let occurredOn { envelope.append(.init("occurredOn", .string(occurredOn))) }
                envelope.append(.init("actor", .string(AccessOptions.who(actor: actor))))  // as for reads: never no one
                if let eventId { envelope.append(.init("eventId", .string(eventId))) }
                if let expectedVersion {
                    guard Envelope.parseExpectedVersion(expectedVersion) != nil else {
                        throw Envelope.shapeError("expectedVersion", "a version number, noStream or any expected")
                    }
                    envelope.append(.init("expectedVersion", .string(expectedVersion)))
                }
                let today = BusinessDate.today()
                let event = try Catalogue.validate(try Envelope.decode(.object(envelope), today: today, dateField: DomainEvent.dateField, catalogueChecksDates: true))
                // The path only: making a StoreOptions would instantiate its
                // option wrapper's generic metadata, start-up the fast path spares.
                let path = StoreOptions.path(store: store)
                let opened: EventStore
                do {
                    opened = try EventStore(directory: path, create: create)
                } catch let error as LogError where error.code == .noStore && !create && error.message.hasPrefix("no store at") {
                    throw LogError(.noStore, "no store at \(path); give --create to start a new one there (a mistyped --store must not start a new, empty log)")
                }
                let appends = try Appends(store: opened, storePath: path)
                let outcome = try appends.appendNow([event], caller: .storeOperator(event.actor ?? AccessOptions.who(actor: actor)), today: today)[0]
                if json {
                    out.json(.object([
                        "position": .integer(outcome.position), "stream": .string(outcome.stream),
                        "version": .integer(outcome.version), "eventId": .string(outcome.eventID.description),
                        "written": .bool(outcome.written),
                    ]))
                } else if outcome.written {
                    out.line("Appended \(outcome.stream) version \(outcome.version) at position \(outcome.position).")
                } else {
                    out.line("Already in the log: \(outcome.stream) version \(outcome.version) at position \(outcome.position); nothing written.")
                }
            } catch {
                throw fail(error, json: json, output: out)
            }
        }
    }
}

extension IPLog.AppendRequest {
    /// The options `append` takes a value for, as they are spelled on the
    /// command line (an array: nine names need no hashing at start-up).
    private static let valued = [
        "store", "stream", "type", "data", "data-file", "occurred-on", "actor", "event-id", "expected-version",
    ]

    /// Reads a plain `append` command line (the arguments after `append`)
    /// without argument-parser, whose reflection over the command's options
    /// costs more than the append itself when a process appends one event.
    /// Only `--name value`, `--name=value`, `--json` and `--create` are read, each at most
    /// once, with no value starting with `-`, and the command's own check
    /// (exactly one of `--data` and `--data-file`) must hold; anything else
    /// (help, an unknown or repeated option, a missing value) is nil, and
    /// argument-parser reads it, so what it prints for a bad command line is
    /// unchanged. A test holds both readings to the same result.
    init?(plainArguments arguments: some Sequence<String>) {
        var values: [String: String] = [:]
        var json = false, create = false
        var rest = arguments.makeIterator()
        while let argument = rest.next() {
            guard argument.hasPrefix("--") else { return nil }
            var name = String(argument.dropFirst(2)), value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if name == "json", value == nil, !json {
                json = true
                continue
            }
            if name == "create", value == nil, !create {
                create = true
                continue
            }
            guard Self.valued.contains(name), values[name] == nil, let value = value ?? rest.next(),
                  !value.hasPrefix("-") else { return nil }
            values[name] = value
        }
        guard let stream = values["stream"], let type = values["type"],
              (values["data"] == nil) != (values["data-file"] == nil) else { return nil }
        self.init(store: values["store"], json: json, stream: stream, type: type, data: values["data"],
                  dataFile: values["data-file"], occurredOn: values["occurred-on"], actor: values["actor"],
                  eventId: values["event-id"], expectedVersion: values["expected-version"], create: create)
    }
}
