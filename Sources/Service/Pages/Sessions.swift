import Application
import Foundation
import Hummingbird
import HummingbirdAuth
import Synchronization

/// Signed-in users of the pages: a random session id (256 bits) in an
/// `HttpOnly`, `SameSite=Strict` cookie, `Secure` behind TLS, that expires
/// after eight hours; each session has its own CSRF token, which every form
/// that writes carries. Kept in memory: a restart signs everyone out.
final class Sessions: Sendable {
    struct Session: Sendable {
        var caller: Caller
        var csrf: String
        var expires: Date
    }

    static let cookie = "iplog_session"
    /// The CSRF token of the sign-in form (before there is a session).
    static let loginCookie = "iplog_login"
    static let lifetime: TimeInterval = 8 * 3600

    private let sessions = Mutex<[String: Session]>([:])

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    func start(_ caller: Caller) -> (id: String, session: Session) {
        let id = Self.random()
        let session = Session(caller: caller, csrf: Self.random(), expires: Date().addingTimeInterval(Self.lifetime))
        sessions.withLock { all in
            all = all.filter { $0.value.expires > Date() }  // the expired go
            all[id] = session
        }
        return (id, session)
    }

    func session(_ id: String?) -> Session? {
        guard let id else { return nil }
        return sessions.withLock { all in
            guard let session = all[id] else { return nil }
            guard session.expires > Date() else {
                all[id] = nil
                return nil
            }
            return session
        }
    }

    func end(_ id: String) {
        sessions.withLock { $0[id] = nil }
    }

    /// `name=value` of the request's Cookie header.
    static func cookie(_ name: String, in request: Request) -> String? {
        guard let header = request.headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == name { return String(pair[1]) }
        }
        return nil
    }

    /// The Set-Cookie value: `Secure` when the request came over TLS (the reverse proxy says so).
    /// The cookie, for the pages under `path` ("" for the root): a tenant's
    /// session is not sent to another tenant's pages.
    static func setCookie(_ name: String, _ value: String, maxAge: Int, request: Request, path: String = "") -> String {
        let secure = request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
        return "\(name)=\(value); Path=\(path.isEmpty ? "/" : path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }
}

/// Finds the caller of a page request from its session cookie (the API's
/// routes take no cookie: a cookie would let another site's form write).
struct SessionAuthenticator: AuthenticatorMiddleware {
    typealias Context = ServiceContext
    let sessions: Sessions

    func authenticate(request: Request, context: ServiceContext) async throws -> Caller? {
        sessions.session(Sessions.cookie(Sessions.cookie, in: request))?.caller
    }
}

/// A form's fields (application/x-www-form-urlencoded).
struct FormFields {
    let values: [String: String]

    init(_ bytes: [UInt8]) {
        var values: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first else { continue }
            values[decode(name)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    subscript(_ name: String) -> String? { values[name] }
}
