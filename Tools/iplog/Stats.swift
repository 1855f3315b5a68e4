import ArgumentParser
import EventLog
import JSON

extension IPLog {
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Events, streams, sizes and the chain head of the store.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let out = StandardOutput()
            do {
                let stats = try storeOptions.open(create: false).statistics()
                if output.json {
                    out.json(.object([
                        "events": .integer(stats.events), "streams": .integer(stats.streams),
                        "bytesOnDisk": .integer(stats.fileBytes), "bytesUsed": .integer(stats.usedBytes),
                        "mapSize": .integer(stats.mapSize),
                        "head": .object(["position": .integer(stats.head.position), "hash": .string(stats.head.hash.hexString)]),
                    ]))
                } else {
                    var table = Table(headers: ["", ""])
                    table.rows = [
                        ["events", "\(stats.events)"], ["streams", "\(stats.streams)"],
                        ["bytes on disk", "\(stats.fileBytes)"], ["bytes used", "\(stats.usedBytes)"],
                        ["map size", "\(stats.mapSize)"], ["chain head", "position \(stats.head.position), \(stats.head.hash.hexString)"],
                    ]
                    out.line(table.render(header: false))
                }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
