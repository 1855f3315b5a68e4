import AccessLog
import Foundation
import Testing

/// The bugs a trial as a new user found (issue 20), each through the binary.
struct UsabilityBugTests {
    static let registration = #"{"coordinatorId":"0042","name":"Kari Nordmann","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2025-01-02"}"#

    /// A mistyped `--store` on `append` must not start a new, empty log;
    /// `--create` says a new store is meant, and `import` makes one and says so.
    @Test func appendRefusesAMissingStoreUnlessToldToCreateIt() throws {
        let box = try Sandbox()
        let typo = box.directory + "/iplog-stroe"
        let refused = try box.iplog(["append", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", Self.registration], store: typo)
        #expect(refused.status == 1 && refused.stderr.hasPrefix("[noStore] ") && refused.stderr.contains("--create"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: typo))
        let created = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", Self.registration], store: typo)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try box.iplog(["stats", "--json"], store: typo).stdout.contains(#""events":1"#))
        // The same command line read by argument-parser (a repeated option sends it there) says the same.
        let parsed = try box.iplog(["append", "--stream", "coordinator-0043", "--type", "CoordinatorRegistered", "--data", Self.registration,
                                    "--json", "--json"], store: box.directory + "/other")
        #expect(parsed.status != 0 && !FileManager.default.fileExists(atPath: box.directory + "/other"))

        let imported = try box.iplog(["import", try box.write("in.jsonl", registrationLines(2))], store: box.directory + "/new")
        #expect(imported.status == 0 && imported.stderr.contains("Created a new store at"), "\(imported.stderr)")
        let again = try box.iplog(["import", try box.write("in2.jsonl", registrationLines(2, prefix: "x"))], store: box.directory + "/new")
        #expect(again.status == 0 && !again.stderr.contains("Created"), "\(again.stderr)")
    }
}
