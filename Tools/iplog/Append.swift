import ArgumentParser
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

                A refusal writes nothing and prints one line that starts with its \
                code in brackets.
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

        @Option(help: "Who records the event (default: $IPLOG_ACTOR).")
        var actor: String?

        @Option(help: ArgumentHelp("The event's id, a UUID; an id already in the log is not written twice.", valueName: "uuid"))
        var eventId: String?

        @Option(help: ArgumentHelp("The version the stream must be at: a number, noStream or any.", valueName: "version"))
        var expectedVersion: String?

        func validate() throws {
            if (data == nil) == (dataFile == nil) {
                throw ValidationError("Give the payload with exactly one of --data and --data-file.")
            }
        }

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
                if let actor = actor ?? ProcessInfo.processInfo.environment["IPLOG_ACTOR"] { envelope.append(.init("actor", .string(actor))) }
                if let eventId { envelope.append(.init("eventId", .string(eventId))) }
                if let expectedVersion {
                    guard Envelope.parseExpectedVersion(expectedVersion) != nil else {
                        throw Envelope.shapeError("expectedVersion", "a version number, noStream or any expected")
                    }
                    envelope.append(.init("expectedVersion", .string(expectedVersion)))
                }
                let today = BusinessDate.today()
                let event = try Catalogue.validate(try Envelope.decode(.object(envelope), today: today, dateField: DomainEvent.dateField))
                let store = try storeOptions.open(create: true)
                var policy = DomainPolicy(today: today)
                let outcome = try store.append(event, policy: &policy)
                if output.json {
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
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
