import Application
import JWTKit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Logging
import Service
import Testing

/// `iplog serve --tenants DIR`: two municipalities' stores behind one service.
/// Every user of one gets nothing from the other: 401 on every API route, the
/// sign-in page on every page; with their own tenant they get what the role
/// table gives them.
@Suite(.serialized) struct TenantTests {
    /// Two tenants, `nordby` and `sorby`, each a fixture's store (with the same user names, different tokens).
    final class Tenants: @unchecked Sendable {
        let directory: String
        let nordby = try! ServiceFixture()
        let sorby = try! ServiceFixture()

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-tenants-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: directory + "/nordby", withDestinationPath: nordby.store)
            try FileManager.default.createSymbolicLink(atPath: directory + "/sorby", withDestinationPath: sorby.store)
            try FileManager.default.createDirectory(atPath: directory + "/not-a-store", withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func withService(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            var logger = Logger(label: "iplog-test")
            logger.logLevel = .error
            let app = try await IPLogService.application(ServeOptions(store: "/nonexistent", tenants: directory, host: "127.0.0.1", port: 0), logger: logger)
            try await app.test(.live) { client in try await test(client) }
        }
    }

    static let pages = ["/", "/cases/case-000001", "/cases/case-000001/plan", "/reports/deviations", "/reports/workload"]
    static let forms = ["/cases/case-000001/meetings", "/cases/case-000001/meetings/held", "/cases/case-000001/deviations",
                        "/cases/case-000001/items/a-1/complete", "/logout"]

    @Test func aTokenOfOneTenantGetsNothingFromAnother() async throws {
        let tenants = try Tenants()
        try await tenants.withService { client in
            for (own, other, fixture) in [("nordby", "sorby", tenants.nordby), ("sorby", "nordby", tenants.sorby)] {
                for role in Role.allCases {
                    let headers = fixture.headers(role)
                    for (path, answers) in RoleTableTests.reads {
                        let mine = try await client.execute(uri: "/t/\(own)" + path, method: .get, headers: headers)
                        #expect(mine.status.code == answers[role]!, "\(role) of \(own) GET /t/\(own)\(path)")
                        let theirs = try await client.execute(uri: "/t/\(other)" + path, method: .get, headers: headers)
                        #expect(theirs.status == .unauthorized, "\(role) of \(own) GET /t/\(other)\(path): \(theirs.status)")
                        #expect(theirs.json?["error"]?["code"]?.stringValue == "unauthenticated")
                        #expect(!theirs.text.contains("case-000001"))
                    }
                    for path in ["/v1/streams/case-000001/events", "/v1/import"] {
                        let theirs = try await client.execute(uri: "/t/\(other)" + path, method: .post,
                                                              headers: headers + [.contentType: path.hasSuffix("import") ? "application/x-ndjson" : "application/json"],
                                                              body: ByteBuffer(string: #"{"type":"MeetingScheduled","data":{"meetingId":"m-9","scheduledFor":"2026-12-01"}}"#))
                        #expect(theirs.status == .unauthorized, "\(role) of \(own) POST /t/\(other)\(path): \(theirs.status)")
                    }
                    // Pages: a bearer token of another tenant is nobody there: the sign-in page.
                    for path in Self.pages {
                        let theirs = try await client.execute(uri: "/t/\(other)" + path, method: .get, headers: headers)
                        #expect(theirs.status == .seeOther && theirs.headers[.location] == "/t/\(other)/login", "\(role) of \(own) GET /t/\(other)\(path)")
                    }
                    for path in Self.forms {
                        let theirs = try await client.execute(uri: "/t/\(other)" + path, method: .post,
                                                              headers: headers + [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "csrf=x"))
                        // A form takes a session, never a bearer token (aSessionIsTheTenantsOwn posts one with another tenant's session).
                        let expected: HTTPResponse.Status = path == "/logout" ? .seeOther : .forbidden
                        #expect(theirs.status == expected && !theirs.text.contains("case-000001"), "\(role) of \(own) POST /t/\(other)\(path): \(theirs.status)")
                    }
                }
                // The tenant's own pages answer its own users.
                let start = try await client.execute(uri: "/t/\(own)/", method: .get, headers: fixture.headers(.coordinator))
                #expect(start.status == .ok && start.text.contains("href=\"/t/\(own)/cases/case-000001\""))
            }
            // A tenant that is not there, a directory that is not a store, and the paths without a tenant: 404, as JSON.
            for path in ["/t/vestby/v1/cases", "/t/not-a-store/v1/cases", "/v1/cases", "/cases/case-000001"] {
                let response = try await client.execute(uri: path, method: .get, headers: tenants.nordby.headers(.caseOffice))
                #expect(response.status == .notFound, "\(path)")
                #expect(response.json?["error"]?["code"]?.stringValue == "notFound")
            }
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.json?["tenants"]?.int64Value == 2)
        }
    }

    @Test func aSessionIsTheTenantsOwn() async throws {
        let tenants = try Tenants()
        try await tenants.withService { client in
            // Sign in at nordby: the cookie is for nordby's pages only.
            let form = try await client.execute(uri: "/t/nordby/login", method: .get)
            let loginCookie = try #require(form.headers[.setCookie]).split(separator: ";")[0]
            #expect(form.headers[.setCookie]?.contains("Path=/t/nordby;") == true)
            let csrf = try #require(loginCookie.split(separator: "=").last)
            let signedIn = try await client.execute(uri: "/t/nordby/login", method: .post,
                                                    headers: [.contentType: "application/x-www-form-urlencoded", .cookie: String(loginCookie)],
                                                    body: ByteBuffer(string: "csrf=\(csrf)&token=\(tenants.nordby.tokens[.coordinator]!)"))
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/t/nordby/")
            let session = try #require(signedIn.headers[.setCookie])
            #expect(session.contains("Path=/t/nordby;"))
            let cookie = String(session.split(separator: ";")[0])
            let mine = try await client.execute(uri: "/t/nordby/cases/case-000001", method: .get, headers: [.cookie: cookie])
            #expect(mine.status == .ok)
            // The same cookie, sent to sorby anyway: nobody there.
            let theirs = try await client.execute(uri: "/t/sorby/cases/case-000001", method: .get, headers: [.cookie: cookie])
            #expect(theirs.status == .seeOther && theirs.headers[.location] == "/t/sorby/login")
            // A form posted to sorby with nordby's session and its CSRF token: refused, nothing written.
            let csrf3 = try #require(mine.text.components(separatedBy: #"name="csrf" value=""#).dropFirst().first?.split(separator: "\"").first)
            let before = try await client.execute(uri: "/t/sorby/v1/cases/case-000001", method: .get, headers: tenants.sorby.headers(.caseOffice))
            let posted = try await client.execute(uri: "/t/sorby/cases/case-000001/meetings", method: .post,
                                                  headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookie],
                                                  body: ByteBuffer(string: "csrf=\(csrf3)&scheduledFor=2026-12-20"))
            #expect(posted.status == .forbidden)
            let after = try await client.execute(uri: "/t/sorby/v1/cases/case-000001", method: .get, headers: tenants.sorby.headers(.caseOffice))
            #expect(after.json?["version"] == before.json?["version"] && before.json?["version"] != nil)
            // The same form at nordby, its own tenant, is taken.
            let taken = try await client.execute(uri: "/t/nordby/cases/case-000001/meetings", method: .post,
                                                 headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookie],
                                                 body: ByteBuffer(string: "csrf=\(csrf3)&scheduledFor=2026-12-20"))
            #expect(taken.status == .seeOther && taken.headers[.location] == "/t/nordby/cases/case-000001#historikk")
            // And nordby's token signs nobody in at sorby.
            let form2 = try await client.execute(uri: "/t/sorby/login", method: .get)
            let loginCookie2 = try #require(form2.headers[.setCookie]).split(separator: ";")[0]
            let csrf2 = try #require(loginCookie2.split(separator: "=").last)
            let refused = try await client.execute(uri: "/t/sorby/login", method: .post,
                                                   headers: [.contentType: "application/x-www-form-urlencoded", .cookie: String(loginCookie2)],
                                                   body: ByteBuffer(string: "csrf=\(csrf2)&token=\(tenants.nordby.tokens[.coordinator]!)"))
            #expect(refused.status == .unauthorized)
        }
    }

    /// Each tenant's own identity provider, from its config.json: its tokens
    /// open that tenant only; a token signed by one provider that names
    /// another's issuer opens neither.
    @Test func eachTenantTrustsItsOwnIdentityProvider() async throws {
        let tenants = try Tenants()
        func provider(_ fixture: ServiceFixture, issuer: String) async throws -> JWTKeyCollection {
            let key = ES256PrivateKey()
            let pub = try #require(key.publicKey.parameters)
            let jwks = JSONValue.object(["keys": .array([.object([
                "kty": .string("EC"), "kid": .string("k1"), "alg": .string("ES256"), "use": .string("sig"), "crv": .string("P-256"),
                "x": .string(pub.x), "y": .string(pub.y),
            ])])])
            try jwks.jsonText.write(toFile: fixture.store + "/jwks.json", atomically: true, encoding: .utf8)
            try #"{"oidc": {"issuer": "\#(issuer)", "audience": "iplog", "jwks": "jwks.json"}}"#.write(toFile: fixture.store + "/config.json", atomically: true, encoding: .utf8)
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: key, kid: "k1")
            return keys
        }
        let nordbyIdP = try await provider(tenants.nordby, issuer: "https://login.nordby.kommune.no")
        _ = try await provider(tenants.sorby, issuer: "https://login.sorby.kommune.no")
        let now = Date().timeIntervalSince1970
        func token(_ keys: JWTKeyCollection, issuer: String) async throws -> String {
            try await keys.sign(TokenTests.Claims(sub: "kari", iss: issuer, aud: ["iplog"], exp: now + 300, nbf: now - 60, role: "caseOffice"), kid: "k1")
        }
        let nordbys = try await token(nordbyIdP, issuer: "https://login.nordby.kommune.no")
        let forged = try await token(nordbyIdP, issuer: "https://login.sorby.kommune.no")
        try await tenants.withService { client in
            let mine = try await client.execute(uri: "/t/nordby/v1/cases", method: .get, headers: [.authorization: "Bearer \(nordbys)"])
            #expect(mine.status == .ok, "\(mine.text)")
            for (what, token) in [("nordby's token", nordbys), ("nordby's key with sorby's issuer", forged)] {
                let theirs = try await client.execute(uri: "/t/sorby/v1/cases", method: .get, headers: [.authorization: "Bearer \(token)"])
                #expect(theirs.status == .unauthorized, "\(what)")
            }
        }
    }
}
