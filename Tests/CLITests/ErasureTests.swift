import Foundation
import Testing

/// `iplog erase`: crypto-shredding of one person's data, end to end.
struct ErasureTests {
    static let name = "Ingrid Solbakken"
    static let planWithNames = line("case-000001", "PlanEstablished", #"{"establishedOn":"2026-03-05","goals":[{"goalId":"goal-1","description":"\#(name) skal bo trygt hjemme","horizon":"long"}],"measures":[{"measureId":"measure-1","description":"Hjemmesykepleie morgen","responsible":"Ola Hansen"}],"nextEvaluationDue":"2026-09-05"}"#)
    /// Coordinators and a closed case of personA, with fixed event ids (so that importing it again is idempotent).
    static let closedCase = (Line.active + [planWithNames, Line.deviation(on: "2026-04-02"), Line.close]).enumerated().map { i, text in
        #"{"eventId":"00000000-0000-4000-8000-\#(String(format: "%012d", 900 + i))","# + text.dropFirst()
    }

    /// The store's files in which `needle` occurs.
    func filesContaining(_ needle: Data, in directory: String) -> [String] {
        let paths = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        return paths.filter { p in
            guard let data = FileManager.default.contents(atPath: directory + "/" + p) else { return false }
            return data.range(of: needle) != nil
        }
    }

    /// The key in slot `n` of the store's key file (the first person's is slot 0).
    func key(_ n: Int, of store: String) -> Data? {
        guard let file = FileManager.default.contents(atPath: store + "/keys/person.keys"), file.count >= 64 + 32 * (n + 1) else { return nil }
        return file.subdata(in: (64 + 32 * n)..<(64 + 32 * (n + 1)))
    }

    /// What an erased slot holds (docs/STORAGE.md): not zeros, which would read as a lost key.
    static let erasedMarker = Data("iplog: this key was erased.\n".utf8) + Data(repeating: 0xFF, count: 4)

    func isZero(_ data: Data?) -> Bool { data.map { $0.allSatisfy { $0 == 0 } } ?? false }

    @Test func anErasedPersonsDataIsInNoFileOfTheStoreAndReadsAsErased() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", Self.closedCase)]).status == 0)
        let history = try box.iplog(["history", "case-000001", "--show-person-id", "--reason", "audit"])
        #expect(history.status == 0 && history.stdout.contains(personA) && history.stdout.contains(Self.name))
        // Sealed from the start: neither is in any file in the clear.
        #expect(filesContaining(Data(personA.utf8), in: box.store).isEmpty)
        #expect(filesContaining(Data(Self.name.utf8), in: box.store).isEmpty)
        let personKey = try #require(key(0, of: box.store))
        #expect(!isZero(personKey))

        let erase = try box.iplog(["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute", "--actor", "arkivar"])
        #expect(erase.status == 0 && erase.stdout.contains("case-000001"), "\(erase.stderr)")

        // The key is gone from the disk, and nothing names the person.
        #expect(key(0, of: box.store) == Self.erasedMarker)
        #expect(filesContaining(personKey, in: box.store).isEmpty)
        #expect(filesContaining(Data(personA.utf8), in: box.store).isEmpty)
        #expect(filesContaining(Data(Self.name.utf8), in: box.store).isEmpty)
        // The erasure is recorded, with its reason.
        #expect(!filesContaining(Data("Oppbevaringstiden er ute".utf8), in: box.store + "/access").isEmpty)

        let after = try box.iplog(["history", "case-000001", "--show-person-id"])
        #expect(after.status == 0 && !after.stdout.contains(personA) && !after.stdout.contains(Self.name) && !after.stdout.contains("Ola Hansen"))
        #expect(after.stdout.contains("The person's key has been erased"))
        #expect(try box.iplog(["history", "case-000001", "--json"]).stdout.contains(#""personalDataErased":true"#))
        #expect(after.stdout.contains(#""personId":"[erased]""#) && after.stdout.contains("Hash chain verified for all 10 events"), "\(after.stdout)")
        let verify = try box.iplog(["verify"])
        #expect(verify.status == 0 && verify.stdout.contains("of them erased"))
        // Reports still count the case.
        let cases = try box.iplog(["cases", "--json"])
        #expect(cases.status == 0 && cases.stdout.contains("case-000001") && cases.stdout.contains("[erased]"))
        let export = try box.iplog(["export", "--stream", "case-000001"])
        #expect(export.status == 0 && !export.stdout.contains(personA) && export.stdout.contains("[erased]"))
        // The access log no longer finds the person, and a second erasure has nothing to erase.
        #expect(try box.iplog(["access-log", "--person", personA]).stdout.hasPrefix("0 reads"))
        let again = try box.iplog(["erase", "--person", personA, "--reason", "igjen"])
        #expect(again.status == 2 && again.stderr.contains("[unknownPerson]"))
        // Importing the same history again stores nothing again.
        let reimport = try box.iplog(["import", box.directory + "/case.jsonl"])
        #expect(reimport.status == 0 && reimport.stdout.contains("Imported 0 events"), "\(reimport.stdout) \(reimport.stderr)")
        #expect(filesContaining(Data(personA.utf8), in: box.store).isEmpty)
    }

    @Test func erasureIsRefusedWhileThePersonHasAnOpenCase() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", Line.active)]).status == 0)
        let erase = try box.iplog(["erase", "--person", personA, "--reason", "feil"])
        #expect(erase.status == 3 && erase.stderr.contains("[personHasOpenCase]"))
        #expect(try box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA))
        #expect(!isZero(key(0, of: box.store)))
    }

    @Test func anErasedCaseTakesNoPersonalValuesButThePersonMayComeBack() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("case.jsonl", Self.closedCase)]).status == 0)
        #expect(try box.iplog(["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute"]).status == 0)
        let late = line("case-000001", "DeviationReported", #"{"deviationId":"d-9","reportedOn":"2026-10-05","category":"dokumentasjon","description":"Sen merknad"}"#)
        let refused = try box.iplog(["import", "--lenient", try box.write("late.jsonl", [late])])
        #expect(refused.status == 3 && refused.stderr.contains("[personErased]"), "\(refused.stderr)")
        // A new case for the same person gets a new key.
        let back = try box.iplog(["import", try box.write("back.jsonl", [Line.application("case-000002", person: personA, on: "2026-11-01")])])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try box.iplog(["history", "case-000002", "--show-person-id"]).stdout.contains(personA))
        #expect(try !box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA))
        #expect(key(0, of: box.store) == Self.erasedMarker && !isZero(key(1, of: box.store)))
    }

    @Test func twoCasesOfOnePersonShareTheirKeyAndAreErasedTogether() throws {
        let box = try Sandbox()
        let second = [Line.application("case-000002", person: personA, on: "2026-10-10"),
                      line("case-000002", "PlanClosed", #"{"closedOn":"2026-10-20","reason":"personRequested"}"#)]
        #expect(try box.iplog(["import", try box.write("cases.jsonl", Self.closedCase + second)]).status == 0)
        let erase = try box.iplog(["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute", "--json"])
        #expect(erase.status == 0 && erase.stdout.contains(#""cases":["case-000001","case-000002"]"#), "\(erase.stdout)")
        #expect(try !box.iplog(["history", "case-000002", "--show-person-id"]).stdout.contains(personA))
        // One key for both cases: slot 0 is erased; slot 1 (written ahead) is untouched.
        #expect(key(0, of: box.store) == Self.erasedMarker && !isZero(key(1, of: box.store)))
    }
}
