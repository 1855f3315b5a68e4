import Foundation
import Testing

struct HostileInputTests {
    static let corpus: [String] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Corpus/hostile-input.jsonl").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.replacingOccurrences(of: "PID", with: personA) }
    }()

    /// Every corpus line, after one valid line: exit 2 naming line 2, no crash,
    /// the valid line committed and nothing from the bad one.
    @Test func everyHostileLineIsRefusedCleanly() throws {
        #expect(Self.corpus.count >= 38)
        let box = try Sandbox()
        let good = Line.registered("0001")
        for (i, hostile) in Self.corpus.enumerated() {
            let store = box.directory + "/s\(i)"
            let file = try box.write("in\(i).jsonl", [good, hostile])
            let run = try box.iplog(["import", file, "--json"], store: store)
            #expect(run.status == 2, "corpus line \(i + 1): exit \(run.status) \(run.stderr.prefix(200))")
            #expect(run.stderr.hasPrefix("[invalid") && run.stderr.contains("line 2:"), "corpus line \(i + 1): \(run.stderr.prefix(200))")
            #expect(!run.stderr.contains(personA), "corpus line \(i + 1) echoed the person id")
            let error = (run.json as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["line"] as? Int == 2)
            #expect((try box.iplog(["stats", "--json"], store: store).json as? [String: Any])?["events"] as? Int == 1)
        }
    }

    @Test func appendRefusesHostilePayloadsCleanly() throws {
        let box = try Sandbox()
        for data in ["{", String(repeating: "[", count: 100_000), #"{"coordinatorId":"0042","name":1}"#, "\u{0}", #"{"a":"\ud800"}"#] {
            let run = try box.iplog(["append", "--create", "--stream", "coordinator-0042", "--type", "CoordinatorRegistered", "--data", data])
            #expect(run.status == 2, "\(run.stderr.prefix(200))")
        }
    }
}
