import Domain
import EventLog
import Foundation
import JSON
import SampleData

/// The generated workload, as JSON Lines bytes (what both sides store) and the
/// (stream, version) index key of each line.
struct Workload {
    let lines: [[UInt8]]
    let indexKeys: [[UInt8]]
    var jsonBytes: Int { lines.reduce(0) { $0 + $1.count + 1 } }

    init(cases: Int, today: BusinessDate) {
        var lines: [[UInt8]] = [], keys: [[UInt8]] = []
        var versions: [String: UInt64] = [:]
        SampleData.generate(.init(cases: cases, seed: 1)) { envelope in
            var bytes: [UInt8] = []
            envelope.write(to: &bytes)
            lines.append(bytes)
            let stream = envelope["stream"]?.stringValue ?? ""
            let version = (versions[stream] ?? 0) + 1
            versions[stream] = version
            var key = Array(stream.utf8)
            key.append(0)
            var v = version.bigEndian
            withUnsafeBytes(of: &v) { key.append(contentsOf: $0) }
            keys.append(key)
        }
        self.lines = lines
        self.indexKeys = keys
    }

    /// The lines as `iplog import` reads them: parsed, envelope decoded, checked
    /// against the catalogue. Lazy, so the work happens inside the timed import.
    func items(today: BusinessDate) -> ReadAhead<Zip2Sequence<PartialRangeFrom<Int>, [[UInt8]]>, ImportItem> {
        ImportItem.parsedAhead(zip(1..., lines), today: today)
    }
}

/// The minimal C program that `iplog append` is compared with: open the
/// environment, put one record, commit, exit.
enum CProgram {
    static let source = #"""
    #include <lmdb.h>
    #include <stdlib.h>
    #include <string.h>
    int main(int argc, char **argv) {
        MDB_env *env; MDB_txn *txn; MDB_dbi dbi;
        unsigned long long n = strtoull(argv[2], 0, 10) + 1, key = __builtin_bswap64(n);
        char value[288]; memset(value, 'x', sizeof value);
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) || mdb_env_open(env, argv[1], 0, 0600)) return 1;
        if (mdb_txn_begin(env, 0, 0, &txn) || mdb_dbi_open(txn, "events", MDB_CREATE, &dbi)) return 1;
        MDB_val k = { sizeof key, &key }, v = { sizeof value, value };
        if (mdb_put(txn, dbi, &k, &v, 0) || mdb_txn_commit(txn)) return 1;
        mdb_env_close(env);
        return 0;
    }
    """#

    /// Compiles the program with the system's C compiler; its path.
    static func build(in directory: String) throws -> String {
        let source = directory + "/append.c", binary = directory + "/append-c"
        try Self.source.write(toFile: source, atomically: true, encoding: .utf8)
        try runProcess("/usr/bin/cc", ["-O2", "-o", binary, source, "-llmdb"])
        return binary
    }
}
