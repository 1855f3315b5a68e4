import Application
import Foundation
import Hummingbird
import HummingbirdAuth
import JSON
import JWTKit

/// Finds the caller of a request from its bearer token: an API token of
/// `iplog users add`, or an OpenID Connect access token from the
/// municipality's identity provider. A request without a valid token gets no
/// identity, and every route but `/healthz` and `/metrics` answers it 401.
struct TokenAuthenticator: AuthenticatorMiddleware {
    typealias Context = ServiceContext
    let users: Users
    let oidc: OIDCVerifier?

    func authenticate(request: Request, context: ServiceContext) async throws -> Caller? {
        guard let bearer = request.headers.bearer?.token else { return nil }
        if bearer.hasPrefix("iplog_") { return try users.authenticate(token: bearer)?.caller }
        return await oidc?.caller(for: bearer)
    }
}

/// Where the service finds the identity provider's keys and what it expects of its tokens.
public struct OIDCSettings: Sendable {
    public var jwksFile: String
    public var issuer: String
    public var audience: String

    public init(jwksFile: String, issuer: String, audience: String) {
        self.jwksFile = jwksFile
        self.issuer = issuer
        self.audience = audience
    }
}

/// Verifies OpenID Connect access tokens (RS256 or ES256 only) against the keys
/// of a JWKS file, with their issuer, audience, expiry and not-before, and
/// maps their claims to a caller as `config.json`'s `oidc` names them.
final class OIDCVerifier: Sendable {
    let keys: JWTKeyCollection
    let settings: OIDCSettings
    let claims: ServiceConfig

    init(settings: OIDCSettings, claims: ServiceConfig) async throws {
        guard let data = FileManager.default.contents(atPath: settings.jwksFile) else {
            throw ServeError("--oidc-jwks: cannot read \(settings.jwksFile)")
        }
        keys = JWTKeyCollection()
        do {
            try await keys.add(jwksJSON: String(decoding: data, as: UTF8.self))
        } catch {
            throw ServeError("--oidc-jwks: \(settings.jwksFile) is not a JWKS document of RSA or EC keys (\(error))")
        }
        self.settings = settings
        self.claims = claims
    }

    /// The algorithms accepted: what the identity providers of the sector sign with.
    static let algorithms: Set<String> = ["RS256", "ES256"]

    /// The caller the token names, or nil when it is not valid for this service.
    func caller(for token: String) async -> Caller? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count < 16_384,
              let header = Self.base64URL(parts[0]).flatMap({ try? JSONParser.parse($0) }),
              let alg = header["alg"]?.stringValue, Self.algorithms.contains(alg) else { return nil }
        guard let payload = try? await keys.verify(token, as: OIDCClaims.self) else { return nil }
        let now = Date()
        guard payload.issuer == settings.issuer, payload.audiences.contains(settings.audience),
              let expiry = payload.expires, expiry > now, (payload.notBefore ?? now) <= now,
              let subject = payload.subject, Users.isValidName(subject),
              let role = payload.strings[claims.roleClaim].flatMap(Role.init(rawValue:)) else { return nil }
        let unit = payload.strings[claims.unitClaim], coordinator = payload.strings[claims.coordinatorClaim]
        if role == .unitManager && unit == nil || role == .coordinator && coordinator == nil { return nil }
        return Caller(name: subject, role: role, unit: role == .unitManager ? unit : nil, coordinatorId: role == .coordinator ? coordinator : nil)
    }

    static func base64URL(_ text: Substring) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.utf8.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}

/// The claims of an access token: the registered ones, and every other claim
/// that is a string (the role, unit and coordinator claims are among them).
struct OIDCClaims: JWTPayload {
    var subject: String?
    var issuer: String?
    var audiences: [String] = []
    var expires: Date?
    var notBefore: Date?
    var strings: [String: String] = [:]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            switch key.stringValue {
            case "aud":
                if let one = try? container.decode(String.self, forKey: key) { audiences = [one] }
                else { audiences = (try? container.decode([String].self, forKey: key)) ?? [] }
            case "exp": expires = (try? container.decode(Double.self, forKey: key)).map(Date.init(timeIntervalSince1970:))
            case "nbf": notBefore = (try? container.decode(Double.self, forKey: key)).map(Date.init(timeIntervalSince1970:))
            default:
                if let value = try? container.decode(String.self, forKey: key) { strings[key.stringValue] = value }
            }
        }
        subject = strings["sub"]
        issuer = strings["iss"]
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in strings { try container.encode(value, forKey: Key(stringValue: key)) }
        if !audiences.isEmpty { try container.encode(audiences, forKey: Key(stringValue: "aud")) }
        if let expires { try container.encode(expires.timeIntervalSince1970, forKey: Key(stringValue: "exp")) }
        if let notBefore { try container.encode(notBefore.timeIntervalSince1970, forKey: Key(stringValue: "nbf")) }
    }

    /// Expiry and not-before are checked by the verifier, with the issuer and audience.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The service cannot start: a message for the operator.
public struct ServeError: Error, CustomStringConvertible {
    public var description: String
    /// `invalidShape` for what the operator gave (exit 2), `ioError` for what failed (exit 1).
    public var code: String
    public init(_ description: String, code: String = "invalidShape") {
        self.description = description
        self.code = code
    }
}
