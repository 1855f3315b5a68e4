import Crypto
import EventLog
import Foundation
import JSON
import Synchronization

/// The service's users and their API tokens, in the store's `users/users.json`
/// (0600): a name, a role and its scope, and the SHA-256 of the token, never
/// the token itself. A token is 256 random bits, shown once when it is made.
///
/// The file is replaced whole (a temporary file synced and renamed into place,
/// under a lock), so a running service sees a change by the file's identity
/// and reloads it: a revoked token stops working at the next request.
public final class Users: Sendable {
    public struct User: Sendable, Hashable {
        public var name: String
        public var role: Role
        public var unit: String?
        public var coordinatorId: String?
        /// SHA-256 of the token, hex.
        public var tokenHash: String
        public var created: String
        public var revoked: String?

        public var caller: Caller { Caller(name: name, role: role, unit: unit, coordinatorId: coordinatorId) }
    }

    public let directory: String
    private struct Loaded {
        var identity: FileIdentity?
        var users: [User]
    }
    private let loaded = Mutex(Loaded(identity: nil, users: []))

    public init(store: String) {
        directory = store + "/users"
    }

    var file: String { directory + "/users.json" }

    // MARK: Tokens

    /// A new token: `iplog_` and 256 random bits in base64url.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "iplog_" + text
    }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The user whose token this is, if it is not revoked. Every user's hash is
    /// compared, each in constant time, so the answer's timing tells nothing
    /// about which hash came close.
    public func authenticate(token: String) throws -> User? {
        guard token.hasPrefix("iplog_"), token.utf8.count < 200 else { return nil }
        let presented = Array(Self.hash(token).hexString.utf8)
        var found: User?
        for user in try current() {
            if Self.constantTimeEqual(Array(user.tokenHash.utf8), presented) && user.revoked == nil && found == nil { found = user }
        }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    // MARK: The file

    /// The users as the file holds them now (read again when it changed).
    public func current() throws -> [User] {
        let identity = FileIdentity(path: file)
        return try loaded.withLock { loaded in
            if let identity, loaded.identity == identity { return loaded.users }
            loaded = Loaded(identity: identity, users: identity == nil ? [] : try read())
            return loaded.users
        }
    }

    private func read() throws -> [User] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        let json: JSONValue
        do { json = try JSONParser.parse(Array(data)) } catch {
            throw LogError(.damaged, "users/users.json: malformed JSON: \(error)")
        }
        guard case .array(let items)? = json["users"] else { throw LogError(.damaged, "users/users.json: no list of users") }
        return try items.enumerated().map { i, item in
            guard let name = item["name"]?.stringValue, let role = item["role"]?.stringValue.flatMap(Role.init(rawValue:)),
                  let hash = item["tokenHash"]?.stringValue, let created = item["created"]?.stringValue else {
                throw LogError(.damaged, "users/users.json: users[\(i)] is incomplete")
            }
            return User(name: name, role: role, unit: item["unit"]?.stringValue, coordinatorId: item["coordinatorId"]?.stringValue,
                        tokenHash: hash, created: created, revoked: item["revoked"]?.stringValue)
        }
    }

    private func write(_ users: [User]) throws {
        let json = JSONValue.object([
            "format": .integer(1),
            "users": .array(users.map { u in
                .object([
                    "name": .string(u.name), "role": .string(u.role.rawValue), "unit": u.unit.map(JSONValue.string) ?? .null,
                    "coordinatorId": u.coordinatorId.map(JSONValue.string) ?? .null, "tokenHash": .string(u.tokenHash),
                    "created": .string(u.created), "revoked": u.revoked.map(JSONValue.string) ?? .null,
                ])
            }),
        ])
        let temporary = file + ".new"
        let bytes = Array((json.jsonText + "\n").utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LogError.file(errno, "users/users.json") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw LogError.file(errno, "users/users.json") }
            written += n
        }
        guard fsync(fd) == 0, rename(temporary, file) == 0 else { throw LogError.file(errno, "users/users.json") }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    /// Runs `body` on the users under the directory's lock, writing what it returns.
    private func change<R>(_ body: (inout [User]) throws -> R) throws -> R {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw LogError.file(errno, "users/lock") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw LogError.file(errno, "users/lock") }
        var users = try read()
        let result = try body(&users)
        try write(users)
        return result
    }

    // MARK: Commands

    /// A user name: letters, digits, '.', '_', '-' or '@', at most 100 characters.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100
            && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_@".unicodeScalars.contains($0) }
    }

    /// Adds a user and returns their token (shown once; only its hash is kept).
    public func add(name: String, role: Role, unit: String?, coordinatorId: String?) throws -> (user: User, token: String) {
        guard Self.isValidName(name) else {
            throw LogError(.invalidShape, "name: letters, digits, '.', '_', '-' or '@' (at most 100 characters) expected")
        }
        if role == .unitManager, unit == nil { throw LogError(.invalidShape, "--unit: a unit manager needs their unit") }
        if role == .coordinator, coordinatorId == nil { throw LogError(.invalidShape, "--coordinator: a coordinator needs their coordinator id (0042 of coordinator-0042)") }
        if role != .unitManager, unit != nil { throw LogError(.invalidShape, "--unit: only a unit manager has a unit") }
        if role != .coordinator, coordinatorId != nil { throw LogError(.invalidShape, "--coordinator: only a coordinator has a coordinator id") }
        let token = Self.newToken()
        let user = User(name: name, role: role, unit: unit, coordinatorId: coordinatorId, tokenHash: Self.hash(token).hexString,
                        created: EventStore.systemClock().description, revoked: nil)
        try change { users in
            if users.contains(where: { $0.name == name && $0.revoked == nil }) {
                throw LogError(.invalidShape, "name: there is a user \(name) already; revoke them first (iplog users revoke \(name))")
            }
            users.append(user)
        }
        return (user, token)
    }

    /// Revokes the user's token: it stops working at once, also in a running service.
    public func revoke(name: String) throws -> User {
        try change { users in
            guard let i = users.firstIndex(where: { $0.name == name && $0.revoked == nil }) else {
                throw LogError(.invalidShape, "name: no user \(name) with a token in force (iplog users list)")
            }
            users[i].revoked = EventStore.systemClock().description
            return users[i]
        }
    }
}

/// A file's identity: a rename puts a new inode in place, an edit changes the time or the size.
public struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modified: Int64

    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
