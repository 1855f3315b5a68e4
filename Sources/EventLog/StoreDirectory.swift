import Foundation
import LMDB

/// What a store directory holds before the log is opened, and whether a
/// command may open (or create) a store there.
///
/// A store is made only in a missing or empty directory (or one a creation
/// that was cut short left: the store's own entries, none of them holding
/// data). A directory with anything else in it is not taken over. A log that is
/// missing or empty beside data that only a log could have given rise to (keys
/// handed out, read models, an access log) is damage, never a new store: a new
/// log would hand out the existing people's key slots again.
struct StoreDirectory {
    let path: String
    var logPath: String { path + "/log" }
    var dataPath: String { logPath + "/data.mdb" }

    /// The entries a store directory may hold.
    static let storeEntries: Set<String> = ["log", "keys", "projections", "access", "users", "config.json"]

    /// Size of a file, nil when it does not exist.
    static func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// The store's parts that hold data and would be orphaned without a log.
    func dataWithoutLog() -> [String] {
        var found: [String] = []
        if let keys = Self.size(path + "/keys/person.keys"), keys > PersonKeys.headerSize { found.append("keys/person.keys") }
        for part in ["projections", "access"] where (Self.size(path + "/\(part)/data.mdb") ?? 0) > 0 { found.append(part + "/") }
        return found
    }

    /// Checks the directory before the log is opened; returns true when the log
    /// must be created (a new store).
    func prepare(create: Bool) throws -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue { throw LogError(.noStore, "\(path) is a file, not a store directory") }
        switch Self.size(dataPath) {
        case .some(let bytes) where bytes > 0:
            return false
        case .some:
            // An empty data file: LMDB would make a new, empty log of it.
            let orphans = dataWithoutLog()
            guard create, orphans.isEmpty else {
                throw LogError(.damaged, "the log's data file \(dataPath) is empty (0 bytes) " + (orphans.isEmpty
                    ? "(a backup or a store creation that was cut short?): this is not a usable store; the next import or append makes it anew"
                    : "while the store holds \(orphans.joined(separator: ", ")): the log is lost; restore the store from a backup"))
            }
            try fm.removeItem(atPath: dataPath)  // a creation cut short before its first write: begin again
            return true
        case .none:
            let orphans = exists ? dataWithoutLog() : []
            if !orphans.isEmpty {
                throw LogError(.damaged, "\(path) has no log (log/data.mdb) but holds \(orphans.joined(separator: ", ")): the log is lost; restore the store from a backup")
            }
            guard create else { throw LogError(.noStore, "no store at \(path)") }
            if exists {
                let strangers = try fm.contentsOfDirectory(atPath: path).filter { !Self.storeEntries.contains($0) }.sorted()
                if !strangers.isEmpty {
                    let shown = strangers.prefix(3).joined(separator: ", ") + (strangers.count > 3 ? ", …" : "")
                    throw LogError(.noStore, "\(path) is not empty and is not a store (it holds \(shown)); give --store a new or empty directory")
                }
            }
            try fm.createDirectory(atPath: logPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(path, 0o700)  // new, empty, or the store's own: health data, its owner only
            return true
        }
    }
}
