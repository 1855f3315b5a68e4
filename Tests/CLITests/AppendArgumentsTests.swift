import Testing
@testable import iplog

/// `iplog append` reads a plain command line itself (``IPLog/AppendRequest``)
/// and leaves the rest to argument-parser: whatever it reads must mean what
/// argument-parser makes of it, and whatever it leaves must be left whole.
struct AppendArgumentsTests {
    static let data = #"{"coordinatorId":"b1","trainedOn":"2026-01-05","course":"Koordinatoropplæring"}"#

    /// Command lines the fast reading takes.
    static let plain: [[String]] = [
        ["--stream", "coordinator-b1", "--type", "CoordinatorTrained", "--data", data],
        ["--type", "CoordinatorTrained", "--data", data, "--stream", "coordinator-b1"],
        ["--store", "/tmp/a store", "--json", "--stream", "case-000001", "--type", "MeetingHeld", "--data-file", "payload.json"],
        ["--store=/tmp/s", "--stream=case-000001", "--type=MeetingHeld", "--data={\"a\":\"x=y\"}", "--json"],
        ["--stream", "case-000001", "--type", "MeetingHeld", "--data", "", "--occurred-on", "2026-02-30"],
        ["--stream", "case-000001", "--type", "DecisionSent", "--data", "{}", "--actor", "saksbehandler 7",
         "--event-id", "5b0c7e2a-1d4e-4c1f-9b1a-0a2b3c4d5e6f", "--expected-version", "noStream"],
        ["--stream", "case-000001", "--type", "X", "--data", "{}", "--expected-version", "12", "--occurred-on", "2026-01-01"],
        ["--stream", "æøå", "--type", "X", "--data", "{\"navn\":\"Åse\"}"],
        ["--create", "--stream", "case-000001", "--type", "X", "--data", "{}", "--json"],
    ]

    /// Command lines it leaves to argument-parser: help, errors, and forms it
    /// does not read (a value starting with "-", a repeated option, positional words).
    static let left: [[String]] = [
        [], ["--help"], ["-h"], ["help"], ["--version"],
        ["--stream", "case-1", "--type", "X"],
        ["--stream", "case-1", "--data", "{}"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--data-file", "f"],
        ["--stream", "case-1", "--type", "X", "--data-file", "-"],
        ["--stream", "case-1", "--type", "X", "--data", "-1"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--stream", "case-2"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--json", "--json"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--json=yes"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "extra"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--bogus", "1"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--help"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "-s", "x"],
        ["--stream", "case-1", "--type", "X", "--data"],
        ["--stream", "case-1", "--type", "X", "--data", "{}", "--dataFile", "f"],
    ]

    @Test(arguments: plain)
    func readsAPlainCommandLineAsArgumentParserDoes(arguments: [String]) throws {
        let fast = try #require(IPLog.AppendRequest(plainArguments: arguments))
        #expect(fast == (try IPLog.Append.parse(arguments)).request)
    }

    @Test(arguments: left)
    func leavesEverythingElseToArgumentParser(arguments: [String]) {
        #expect(IPLog.AppendRequest(plainArguments: arguments) == nil)
    }
}
