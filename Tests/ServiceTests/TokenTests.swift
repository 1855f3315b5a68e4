import _CryptoExtras
import Application
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import JWTKit
import Service
import Testing

@Suite(.serialized) struct TokenTests {
    /// A revoked token stops working at once in a running service.
    @Test func aRevokedTokenFailsAtOnce() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            let office = fixture.headers(.caseOffice)
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: office).status == .ok)
            _ = try Users(store: fixture.store).revoke(name: "kontor")
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: office).status == .unauthorized)
            // The others keep working; a new token for the same name works, the old one never again.
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: fixture.headers(.coordinatingUnit)).status == .ok)
            let (_, token) = try Users(store: fixture.store).add(name: "kontor", role: .caseOffice, unit: nil, coordinatorId: nil)
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: [.authorization: "Bearer \(token)"]).status == .ok)
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: office).status == .unauthorized)
        }
    }

    /// The store keeps only a hash of each token: the file never holds one.
    @Test func theStoreKeepsOnlyHashes() throws {
        let fixture = try ServiceFixture()
        let file = try String(contentsOfFile: fixture.store + "/users/users.json", encoding: .utf8)
        for token in fixture.tokens.values {
            #expect(!file.contains(token))
            #expect(!file.contains(String(token.dropFirst(6).prefix(16))))
        }
        var info = stat()
        #expect(stat(fixture.store + "/users/users.json", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    /// A backup keeps the users and what was revoked.
    @Test func aBackupKeepsTheUsers() throws {
        let fixture = try ServiceFixture()
        _ = try Users(store: fixture.store).revoke(name: "revisor")
        let copy = fixture.directory + "/copy"
        let backup = try runIplog(["backup", copy, "--store", fixture.store])
        #expect(backup.status == 0 && backup.output.contains("users"), "\(backup.output)")
        #expect(try Users(store: copy).authenticate(token: fixture.tokens[.caseOffice]!)?.name == "kontor")
        #expect(try Users(store: copy).authenticate(token: fixture.tokens[.auditor]!) == nil)
    }

    struct Claims: JWTPayload {
        var sub: String
        var iss: String
        var aud: [String]
        var exp: Double
        var nbf: Double?
        var role: String?
        var unit: String?
        var coordinatorId: String?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// OpenID Connect tokens: RS256 and ES256 signed by the keys of the JWKS
    /// file are accepted with the right issuer, audience and times; every
    /// other one is 401.
    @Test func openIDConnectTokensAreVerified() async throws {
        let fixture = try ServiceFixture()
        let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let ec = ES256PrivateKey()
        let (n, e) = try rsa.publicKey.getKeyPrimitives()
        let ecPublic = try #require(ec.publicKey.parameters)
        let jwks = JSONValue.object(["keys": .array([
            .object(["kty": .string("RSA"), "kid": .string("r1"), "alg": .string("RS256"), "use": .string("sig"),
                     "n": .string(Self.base64URL(n)), "e": .string(Self.base64URL(e))]),
            .object(["kty": .string("EC"), "kid": .string("e1"), "alg": .string("ES256"), "use": .string("sig"), "crv": .string("P-256"),
                     "x": .string(ecPublic.x), "y": .string(ecPublic.y)]),
        ])])
        let jwksFile = fixture.directory + "/jwks.json"
        try jwks.jsonText.write(toFile: jwksFile, atomically: true, encoding: .utf8)
        let signers = JWTKeyCollection()
        await signers.add(rsa: rsa, digestAlgorithm: .sha256, kid: "r1")
        await signers.add(ecdsa: ec, kid: "e1")
        let stranger = JWTKeyCollection()  // the same kid, another key
        await stranger.add(ecdsa: ES256PrivateKey(), kid: "e1")
        await signers.add(hmac: HMACKey(from: "a shared secret that is long enough"), digestAlgorithm: .sha256, kid: "h1")

        let now = Date().timeIntervalSince1970
        func claims(_ change: (inout Claims) -> Void = { _ in }) -> Claims {
            var c = Claims(sub: "ola.nordmann", iss: "https://idp.kommune.no", aud: ["iplog"], exp: now + 300, nbf: now - 60,
                           role: "coordinator", unit: nil, coordinatorId: "0042")
            change(&c)
            return c
        }
        let good = try await signers.sign(claims(), kid: "r1")
        let goodEC = try await signers.sign(claims { $0.role = "caseOffice"; $0.coordinatorId = nil }, kid: "e1")
        let bad: [(String, String)] = [
            ("expired", try await signers.sign(claims { $0.exp = now - 10 }, kid: "r1")),
            ("not yet valid", try await signers.sign(claims { $0.nbf = now + 600 }, kid: "r1")),
            ("wrong issuer", try await signers.sign(claims { $0.iss = "https://evil.example" }, kid: "r1")),
            ("wrong audience", try await signers.sign(claims { $0.aud = ["another-service"] }, kid: "e1")),
            ("wrong key", try await stranger.sign(claims(), kid: "e1")),
            ("HS256", try await signers.sign(claims(), kid: "h1")),
            ("no role", try await signers.sign(claims { $0.role = nil }, kid: "r1")),
            ("unknown role", try await signers.sign(claims { $0.role = "admin" }, kid: "r1")),
            ("coordinator without id", try await signers.sign(claims { $0.coordinatorId = nil }, kid: "r1")),
            ("alg none", Self.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "."
                + Self.base64URL(try JSONEncoder().encode(claims())) + "."),
            ("tampered", String(good.dropLast(4)) + (good.hasSuffix("AAAA") ? "BBBB" : "AAAA")),
        ]
        let settings = OIDCSettings(jwksFile: jwksFile, issuer: "https://idp.kommune.no", audience: "iplog")
        try await fixture.withService(oidc: settings) { client in
            let mine = try await client.execute(uri: "/v1/cases", method: .get, headers: [.authorization: "Bearer \(good)"])
            #expect(mine.status == .ok, "RS256: \(mine.text)")
            #expect(mine.json?["cases"]?.arrayValue?.compactMap { $0["stream"]?.stringValue } == ["case-000001"], "the coordinator claim scopes them")
            let office = try await client.execute(uri: "/v1/cases/case-000002", method: .get, headers: [.authorization: "Bearer \(goodEC)"])
            #expect(office.status == .ok, "ES256: \(office.text)")
            #expect(try await fixture.reads(of: ServiceFixture.other, client).last?.actor == "ola.nordmann", "the user is sub")
            for (what, token) in bad {
                let response = try await client.execute(uri: "/v1/cases", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(response.status == .unauthorized, "\(what)")
            }
        }
    }

    /// Ten thousand requests with bad tokens: each 401, and the service goes on serving others.
    @Test func manyBadTokensLeaveTheServiceServing() async throws {
        let fixture = try ServiceFixture()
        try await fixture.withService { client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var unauthorized = 0
                        for n in 0..<1250 {
                            let token = n % 2 == 0 ? "iplog_\(worker)x\(n)" : "eyJhbGciOiJSUzI1NiJ9.e30.\(n)"
                            let response = try await client.execute(uri: "/v1/reports/deviations", method: .get, headers: [.authorization: "Bearer \(token)"])
                            if response.status == .unauthorized { unauthorized += 1 }
                        }
                        return unauthorized
                    }
                }
                var total = 0
                for try await count in group { total += count }
                #expect(total == 10_000)
            }
            #expect(try await client.execute(uri: "/v1/cases", method: .get, headers: fixture.headers(.caseOffice)).status == .ok)
        }
    }
}
