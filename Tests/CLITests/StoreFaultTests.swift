import AccessLog
import Foundation
import Testing
@testable import iplog

/// The store's answers to the faults of issue 18: lost, cut and swapped key
/// files, emptied and cut logs, full disks, processes killed mid-erasure, read
/// and write errors, hostile paths and text. Each test reproduces the fault
/// and checks the answer: refused with its code, nothing changed, no signal,
/// readable again after repair.
struct StoreFaultTests {
    /// A store with the closed case of `personA` (key slot 0) and one more case (slot 1).
    func storeWithPeople() throws -> Sandbox {
        let box = try Sandbox()
        let lines = ErasureTests.closedCase + [Line.application("case-000002", person: personB, on: "2026-03-01")]
        let imported = try box.iplog(["import", try box.write("cases.jsonl", lines)])
        #expect(imported.status == 0, "\(imported.stderr)")
        return box
    }

    func problems(_ run: Run) -> [String] {
        ((run.json as? [String: Any])?["problems"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    }

    func events(_ box: Sandbox) throws -> Int? {
        (try box.iplog(["stats", "--json"]).json as? [String: Any])?["events"] as? Int
    }

    func exitedNormally(_ run: Run) -> Bool { !run.signaled }

    /// Slot `n` of the store's key file.
    func key(_ n: Int, of store: String) -> Data? { ErasureTests().key(n, of: store) }

    // MARK: 1, 2: key files

    @Test func aLostKeyFileIsDamageNeverErasure() throws {
        let box = try storeWithPeople()
        let keys = box.store + "/keys/person.keys"
        let saved = try Data(contentsOf: URL(fileURLWithPath: keys))
        try FileManager.default.removeItem(atPath: keys)

        let append = try box.iplog(["append", "--create", "--stream", "case-000003", "--type", "ApplicationReceived", "--data",
                                    #"{"personId":"\#(personC)","receivedOn":"2026-03-02","requested":["coordinator"],"origin":"application","unit":"U"}"#])
        #expect(append.status == 1 && append.stderr.hasPrefix("[damaged] "), "\(append.stderr)")
        #expect(!FileManager.default.fileExists(atPath: keys), "no command makes a new key file")
        for command in [["history", "case-000001"], ["cases"], ["deviations"], ["import", try box.write("more.jsonl", [])]] {
            let run = try box.iplog(command)
            #expect(run.status == 1 && run.stderr.hasPrefix("[damaged] "), "\(command): \(run.stderr)")
        }
        let verify = try box.iplog(["verify", "--json"])
        #expect(verify.status == 1 && problems(verify).contains("missingKey"), "\(verify.stdout)")
        #expect(verify.stdout.contains("slots 0–1"), "\(verify.stdout)")
        #expect(!FileManager.default.fileExists(atPath: keys))

        // Repaired from the backup of the key file: all is as before.
        try saved.write(to: URL(fileURLWithPath: keys))
        #expect(try box.iplog(["verify"]).status == 0)
        #expect(try box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA))
    }

    @Test func zerosOrACutInTheKeyFileAreMissingKeysNotErasures() throws {
        let box = try storeWithPeople()
        let keys = box.store + "/keys/person.keys"
        let handle = try #require(FileHandle(forUpdatingAtPath: keys))
        try handle.seek(toOffset: 64 + 32)  // slot 1, personB's
        handle.write(Data(repeating: 0, count: 32))
        try handle.close()
        let verify = try box.iplog(["verify", "--json"])
        #expect(verify.status == 1 && problems(verify) == ["missingKey"], "\(verify.stdout)")
        #expect((verify.json as? [String: Any])?["erasedEvents"] as? Int == 0)
        let history = try box.iplog(["history", "case-000002"])
        #expect(history.status == 1 && history.stderr.hasPrefix("[damaged] "), "\(history.stderr)")

        // Cut short: commands refuse, verify names it.
        let cut = try storeWithPeople()
        #expect(truncate(cut.store + "/keys/person.keys", 64 + 32) == 0)
        let refused = try cut.iplog(["cases"])
        #expect(refused.status == 1 && refused.stderr.contains("cut short"), "\(refused.stderr)")
        #expect(problems(try cut.iplog(["verify", "--json"])).contains("missingKey"))
    }

    @Test func verifyFindsAnotherStoresKeyFile() throws {
        let one = try storeWithPeople(), other = try storeWithPeople()
        #expect(try one.iplog(["verify"]).status == 0)
        try FileManager.default.removeItem(atPath: one.store + "/keys/person.keys")
        try FileManager.default.copyItem(atPath: other.store + "/keys/person.keys", toPath: one.store + "/keys/person.keys")
        let verify = try one.iplog(["verify", "--json"])
        #expect(verify.status == 1 && problems(verify).contains("wrongKey"), "\(verify.stdout)")
    }

    // MARK: 3, 6: the log's data file

    @Test func anEmptiedLogIsDamageNeverANewStore() throws {
        let box = try storeWithPeople()
        let keysBefore = try Data(contentsOf: URL(fileURLWithPath: box.store + "/keys/person.keys"))
        _ = try box.iplog(["cases"])  // read models and an access log exist
        #expect(truncate(box.store + "/log/data.mdb", 0) == 0)
        for command in [["verify"], ["cases"], ["stats"], ["deviations"], ["import", try box.write("more.jsonl", [Line.application("case-000003", person: personC, on: "2026-03-02")])]] {
            let run = try box.iplog(command)
            #expect(run.status == 1 && run.stderr.hasPrefix("[damaged] "), "\(command): \(run.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: box.store + "/keys/person.keys")) == keysBefore, "no key handed out again")
        #expect(StoreFaultTests.size(box.store + "/log/data.mdb") == 0, "nothing initialised")
    }

    @Test func aCutLogIsRefusedByEveryCommandWithoutASignal() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("in.jsonl", registrationLines(3_000))]).status == 0)
        let path = box.store + "/log/data.mdb"
        #expect(truncate(path, off_t(try #require(StoreFaultTests.size(path)) / 2)) == 0)
        for command in [["verify"], ["stats"], ["export"], ["cases"], ["deviations"], ["workload"], ["history", "coordinator-c000001"],
                        ["import", try box.write("more.jsonl", registrationLines(2, prefix: "x"))], ["backup", box.directory + "/bk"]] {
            let run = try box.iplog(command)
            #expect(run.status == 1 && run.stderr.hasPrefix("[damaged] ") && run.stderr.contains("cut short"), "\(command): \(run.status) \(run.stderr)")
        }
    }

    /// Offsets of the nodes on LMDB's leaf pages (4 KiB pages; a page's flags at
    /// byte 10, `mp_lower` at 12, then its nodes' offsets): where a flipped byte
    /// changes the size of a key or value that LMDB hands out.
    static func leafNodes(_ file: Data) -> [Int] {
        let page = 4096
        func u16(_ at: Int) -> Int { Int(file[at]) | Int(file[at + 1]) << 8 }
        var nodes: [Int] = []
        for base in stride(from: 2 * page, to: file.count - page + 1, by: page) where u16(base + 10) & 0x02 != 0 {
            let lower = u16(base + 12)
            guard (16...page).contains(lower) else { continue }
            for i in 0..<(lower - 16) / 2 {
                let offset = u16(base + 16 + 2 * i)
                if (16..<page - 8).contains(offset) { nodes.append(base + offset) }
            }
        }
        return nodes
    }

    /// One flipped byte in a node's sizes or flags (what made `verify` die with
    /// SIGSEGV and SIGBUS: a value that runs past the map or the file, or LMDB
    /// itself following a damaged page) or anywhere in the file: whatever a
    /// command answers, it is never killed by a signal.
    @Test func flippedBytesNeverCrashACommand() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("in.jsonl", registrationLines(600))]).status == 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: box.store + "/log/data.mdb"))
        let nodes = Self.leafNodes(original)
        #expect(nodes.count > 600)
        var generator = SystemRandomNumberGenerator()
        var refused = 0
        for round in 0..<60 {
            var damaged = original
            // Two rounds in three hit a node's data size (bytes 0–3), flags (4–5) or key size (6–7).
            let offset = round % 3 == 2 ? Int.random(in: 0..<original.count, using: &generator)
                : nodes.randomElement(using: &generator)! + (0...7).randomElement(using: &generator)!
            let flip: UInt8 = [0x01, 0x10, 0x7F, 0xFF].randomElement(using: &generator)!
            damaged[offset] ^= flip
            let copy = box.directory + "/flip"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.createDirectory(atPath: copy + "/log", withIntermediateDirectories: true)
            try damaged.write(to: URL(fileURLWithPath: copy + "/log/data.mdb"))
            for command in [["verify"], ["export"], ["history", "coordinator-c000300"]] {
                let run = try box.iplog(command, store: copy)
                #expect(exitedNormally(run), "round \(round), byte \(offset) xor \(flip) (to replay): \(command) ended by a signal (\(run.status)): \(run.stderr.prefix(300))")
                if run.status != 0 { refused += 1 }
            }
        }
        #expect(refused > 0)
    }

    // MARK: 9: a directory that is not a store

    @Test func aCommandNeverTakesOverADirectoryThatIsNotAStore() throws {
        let box = try Sandbox()
        let home = box.directory + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        _ = try box.write("home/notes.txt", ["mine"])
        for command in [["import", try box.write("in.jsonl", registrationLines(2))], ["append", "--create", "--stream", "coordinator-x", "--type", "CoordinatorRegistered", "--data", #"{"coordinatorId":"x","name":"A B","unit":"U","profession":"P","registeredOn":"2025-01-02"}"#]] {
            let run = try box.iplog(command, store: home)
            #expect(run.status == 1 && run.stderr.hasPrefix("[noStore] ") && run.stderr.contains("notes.txt"), "\(run.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: home) == ["notes.txt"])
        #expect((try FileManager.default.attributesOfItem(atPath: home)[.posixPermissions] as? NSNumber)?.intValue == 0o755)
        // An empty directory is fine, and becomes 0700.
        let empty = box.directory + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        #expect(try box.iplog(["import", try box.write("in2.jsonl", registrationLines(2))], store: empty).status == 0)
        #expect((try FileManager.default.attributesOfItem(atPath: empty)[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        // A command that only reads creates nothing.
        let missing = box.directory + "/missing"
        #expect(try box.iplog(["verify"], store: missing).status == 1)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    // MARK: 4: backup

    @Test func aBackupHoldsEverythingSyncedPrivateAndNeverAheadOfItsLog() throws {
        let box = try storeWithPeople()
        #expect(try box.iplog(["history", "case-000001", "--reason", "audit"]).status == 0)  // an access-log entry
        let target = box.directory + "/backup"
        let run = try runBinary("/bin/bash", ["-c", "umask 000; exec \"$0\" backup \"$1\" --store \"$2\" --json", iplogBinary, target, box.store], in: box.directory)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(((run.json as? [String: Any])?["parts"] as? [String]) == ["log", "keys", "projections", "access"])
        let items = (FileManager.default.enumerator(atPath: target)?.allObjects as? [String] ?? []) + [""]
        for item in items {
            let path = target + (item.isEmpty ? "" : "/" + item)
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == (isDirectory.boolValue ? 0o700 : 0o600), "\(item): \(String(mode ?? 0, radix: 8))")
        }
        // The access log came along: the read is in the copy.
        #expect(try AccessLog(directory: target).allEntries().contains { $0.command == "history" && $0.subject == "case-000001" })
        // Read models never ahead of the copy's log.
        let status = try box.iplog(["projections", "status", "--json"], store: target).json as? [String: Any]
        let head = try #require(status?["head"] as? Int)
        for projection in status?["projections"] as? [[String: Any]] ?? [] {
            #expect((projection["position"] as? Int ?? .max) <= head)
        }
    }

    /// Backups taken while appends and reports run: in every one, the read
    /// models are at or behind the log.
    @Test func backupsTakenWhileTheStoreIsBusyAreOneMoment() throws {
        let box = try Sandbox()
        #expect(try box.iplog(["import", try box.write("in.jsonl", registrationLines(500))]).status == 0)
        let more = try box.write("more.jsonl", registrationLines(4_000, prefix: "m"))
        let importer = try box.start(["import", more, "--batch-size", "50"])
        let reporter = Process()
        reporter.executableURL = URL(fileURLWithPath: "/bin/bash")
        reporter.arguments = ["-c", "for i in $(seq 200); do \"$0\" workload --store \"$1\" >/dev/null 2>&1; done", iplogBinary, box.store]
        reporter.environment = testEnvironment
        try reporter.run()
        // Each backup stops for half a second between its first and second copy, while the others write and report.
        var paused = testEnvironment
        paused["IPLOG_FAULT_POINT"] = "backup.betweenCopies:pause"
        for n in 0..<4 {
            let target = box.directory + "/bk\(n)"
            #expect(try runBinary(iplogBinary, ["backup", target, "--store", box.store], in: box.directory, environment: paused).status == 0)
            let status = try box.iplog(["projections", "status", "--json"], store: target).json as? [String: Any]
            let head = status?["head"] as? Int ?? -1
            for projection in status?["projections"] as? [[String: Any]] ?? [] {
                #expect((projection["position"] as? Int ?? .max) <= head, "backup \(n): \(projection) over a log of \(head)")
            }
            #expect(try box.iplog(["verify"], store: target).status == 0)
        }
        reporter.terminate()
        importer.waitUntilExit()
        reporter.waitUntilExit()
    }

    // MARK: 5: erasure

    func eraseEntries(_ box: Sandbox) throws -> [AccessLog.Entry] {
        try AccessLog(directory: box.store).allEntries().filter { $0.command == "erase" }
    }

    @Test(arguments: ["erase.afterCommit", "erase.beforeAccessLog"])
    func anErasureKilledHalfwayIsFinishedAndRecordedByTheNextRun(point: String) throws {
        let box = try storeWithPeople()
        var env = testEnvironment
        env["IPLOG_FAULT_POINT"] = point
        let killed = try runBinary(iplogBinary, ["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute", "--store", box.store], in: box.directory, environment: env)
        #expect(killed.signaled && killed.status == SIGKILL, "killed at \(point): \(killed.status)")
        #expect(try eraseEntries(box).isEmpty)
        let verify = try box.iplog(["verify", "--json"])
        if point == "erase.afterCommit" {
            // Killed after the commit: the log records the erasure, the key is still there;
            // the next command that writes (here an import of nothing) destroys it.
            #expect(problems(verify) == ["erasureIncomplete", "erasureNotInAccessLog"], "\(verify.stdout)")
            #expect(key(0, of: box.store) != ErasureTests.erasedMarker)
            #expect(try box.iplog(["import", try box.write("none.jsonl", [])]).status == 0)
            #expect(key(0, of: box.store) == ErasureTests.erasedMarker)
        }
        // Either way the access log lacks the erasure until the next `iplog erase`.
        #expect(problems(try box.iplog(["verify", "--json"])) == ["erasureNotInAccessLog"])

        let again = try box.iplog(["erase", "--person", personA, "--reason", "Oppbevaringstiden er ute"])
        #expect(again.status == 0, "\(again.stderr)")
        let entries = try eraseEntries(box)
        #expect(entries.count == 1 && entries.first?.reason == "Oppbevaringstiden er ute" && entries.first?.subject == "case-000001", "\(entries)")
        #expect(try box.iplog(["verify"]).status == 0)
        #expect(!(try box.iplog(["history", "case-000001", "--show-person-id"]).stdout.contains(personA)))
        // Once only: a third run finds nothing to erase and records nothing.
        #expect(try box.iplog(["erase", "--person", personA, "--reason", "igjen"]).status == 2)
        #expect(try eraseEntries(box).count == 1)
    }

    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs"))
    func anErasureOnAFullDiskIsNotDoneOrIsRecorded() throws {
        // The whole store full: nothing is erased.
        let box = try storeWithPeople()
        _ = try box.iplog(["cases"])
        let full = try FullDisk(copying: box.store)
        let refused = try box.iplog(["erase", "--person", personA, "--reason", "r"], store: full.store)
        #expect(refused.status == 1 && refused.stderr.hasPrefix("[diskFull] "), "\(refused.stderr)")
        full.makeRoom()
        #expect(try box.iplog(["history", "case-000001", "--show-person-id"], store: full.store).stdout.contains(personA))
        #expect(try box.iplog(["verify"], store: full.store).status == 0)

        // Only the access log full: the erasure is done and recorded in the log; the next run writes its entry.
        let other = try storeWithPeople()
        _ = try other.iplog(["cases"])
        let access = try FullDisk(copying: other.store + "/access", named: "access")
        try FileManager.default.removeItem(atPath: other.store + "/access")
        try FileManager.default.createSymbolicLink(atPath: other.store + "/access", withDestinationPath: access.store)
        let halfway = try other.iplog(["erase", "--person", personA, "--reason", "r"])
        #expect(halfway.status == 1 && halfway.stderr.hasPrefix("[diskFull] ") && halfway.stderr.contains("done and recorded in the log"), "\(halfway.stderr)")
        #expect(!(try other.iplog(["export"]).stdout.contains(personA)))
        access.makeRoom()
        #expect(try other.iplog(["erase", "--person", personA, "--reason", "r"]).status == 0)
        #expect(try eraseEntries(other).count == 1)
    }

    // MARK: 10: a full disk

    @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs"))
    func everyCommandSaysDiskFullWithoutASignal() throws {
        let box = try storeWithPeople()
        let full = try FullDisk(copying: box.store, withoutLocks: true)
        for command in [["cases"], ["deviations"], ["workload"], ["stats"], ["verify"], ["projections", "rebuild"],
                        ["backup", full.root + "/bk"], ["import", try box.write("more.jsonl", registrationLines(300, prefix: "f"))],
                        ["erase", "--person", personA, "--reason", "r"]] {
            let run = try box.iplog(command, store: full.store)
            #expect(run.status == 1 && run.stderr.hasPrefix("[diskFull] "), "\(command): \(run.status) \(run.stderr)")
        }
        full.makeRoom()
        #expect(try box.iplog(["verify"], store: full.store).status == 0)
        #expect(try events(box) == (try box.iplog(["stats", "--json"], store: full.store).json as? [String: Any])?["events"] as? Int)
    }

    // MARK: 7, 8: reading and writing files

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"))
    func aReadErrorStopsTheImportAtItsLine() throws {
        let box = try Sandbox()
        let file = try box.write("in.jsonl", registrationLines(3_000))
        // The 40th read of the file fails with EIO.
        let run = try runBinary("/usr/bin/strace", ["-f", "-o", "/dev/null", "-P", file, "-e", "trace=read", "-e", "inject=read:error=EIO:when=40",
                                                    iplogBinary, "import", file, "--store", box.store, "--batch-size", "100"], in: box.directory)
        #expect(run.status == 1 && run.stderr.contains("[ioError] line ") && run.stderr.contains("Input/output error"), "\(run.stderr)")
        // Every line before the one that could not be read is in, nothing from it on.
        let reported = try #require(run.stderr.range(of: "[ioError] line "))
        let line = try #require(Int(run.stderr[reported.upperBound...].prefix { $0.isNumber }))
        #expect(line > 1 && line < 3_000)
        #expect(try events(box) == line - 1)
        #expect(try box.iplog(["verify"]).status == 0)
        #expect(try box.iplog(["import", file]).status == 0)
        #expect(try events(box) == 3_000)

        let directory = try box.iplog(["import", box.directory])
        #expect(directory.status == 1 && directory.stderr.hasPrefix("[ioError] ") && directory.stderr.contains("directory"), "\(directory.stderr)")
    }

    @Test func aWriteThatFailsIsReportedAndPersonalFilesAre0600() throws {
        let box = try storeWithPeople()
        let missingDirectory = try box.iplog(["registry-extract", "--year", "2026", "--out", box.directory + "/nowhere/extract.csv"])
        #expect(missingDirectory.status == 1 && missingDirectory.stderr.hasPrefix("[ioError] "), "\(missingDirectory.stderr)")
        // A device named by --out is written in place (never replaced), and its failure is reported.
        let device = try box.iplog(["registry-extract", "--year", "2026", "--out", "/dev/full"])
        #expect(device.status == 1 && device.stderr.hasPrefix("[diskFull] "), "\(device.stderr)")
        #expect(FileManager.default.fileExists(atPath: "/dev/full"))
        for command in [["registry-extract", "--year", "2026"], ["export"], ["cases"], ["history", "case-000001"]] {
            let run = try runBinary("/bin/bash", ["-c", "exec \"$0\" \"$@\" > /dev/full"] + [iplogBinary] + command + ["--store", box.store], in: box.directory)
            #expect(run.status == 1 && run.stderr.hasPrefix("[diskFull] "), "\(command): \(run.status) \(run.stderr)")
        }
        let out = box.directory + "/extract.csv"
        _ = try box.write("extract.csv", ["old"])
        chmod(out, 0o644)
        let run = try box.iplog(["registry-extract", "--year", "2026", "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains(personA))
    }

    // MARK: hostile text

    @Test func controlCharactersAreRefusedAndEmptyStreamsAreBadInput() throws {
        let box = try storeWithPeople()
        for unit in [#"Sone\u001b[2J"#, #"Sone\r"#, #"Sone\u0000"#] {
            let run = try box.iplog(["append", "--create", "--stream", "coordinator-z", "--type", "CoordinatorRegistered", "--data",
                                     #"{"coordinatorId":"z","name":"A B","unit":"\#(unit)","profession":"P","registeredOn":"2025-01-02"}"#])
            #expect(run.status == 2 && run.stderr.hasPrefix("[invalidShape] ") && run.stderr.contains("data.unit"), "\(run.stderr)")
        }
        for command in [["case", ""], ["history", ""], ["case", String(repeating: "x", count: 600)], ["export", "--stream", ""]] {
            let run = try box.iplog(command)
            #expect(run.status == 2 && run.stderr.hasPrefix("[invalidShape] "), "\(command): \(run.stderr)")
        }
    }

    /// Text stored before the catalogue refused control characters is shown
    /// with them escaped, line breaks kept.
    @Test func outputForPeopleEscapesControlCharacters() {
        #expect(StandardOutput.printable("Sone\u{1B}[2J\r\nneste\u{0}\u{85}") == "Sone\\u{1B}[2J\\u{D}\nneste\\u{0}\\u{85}")
        #expect(StandardOutput.printable("Hjemmetjenesten\nsone 2") == "Hjemmetjenesten\nsone 2")
    }

    static func size(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }
}

/// A copy of a store (or one of its parts) on a small tmpfs filled to the last
/// byte; unmounted at the end.
final class FullDisk {
    let root: String
    let store: String
    private let filler: String

    init(copying source: String, named name: String = "store", withoutLocks: Bool = false) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard system("mount -t tmpfs -o size=16m tmpfs '\(root)'") == 0 else { throw POSIXError(.EPERM) }
        store = root + "/" + name
        try FileManager.default.copyItem(atPath: source, toPath: store)
        if withoutLocks {
            // New lock files must be made on the full disk (what LMDB maps sparse).
            for part in ["log", "projections", "access"] { try? FileManager.default.removeItem(atPath: "\(store)/\(part)/lock.mdb") }
        }
        filler = root + "/filler"
        _ = system("dd if=/dev/zero of='\(filler)' bs=4k >/dev/null 2>&1")
    }

    func makeRoom() { try? FileManager.default.removeItem(atPath: filler) }

    deinit {
        _ = system("umount -l '\(root)'")
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A third person, for the fault tests.
let personC = personID(day: 14, month: 2, year: 1988, individual: 345) ?? personID(day: 14, month: 2, year: 1988, individual: 346)!
