import Application
import Deviations
import Domain
import EventLog
import Foundation
import Hummingbird
import JSON
import Mustache

/// The pages, in bokmål, server-rendered, for the people who use the service:
/// sign-in, a start page by role, a case page. They call the same application
/// layer as the API: the same scopes, and every read in the access log.
struct Pages: Sendable {
    let reads: Reads
    let users: Users
    let oidc: OIDCVerifier?
    let sessions: Sessions

    func addRoutes(to router: Router<ServiceContext>) {
        router.get("/login") { request, context in try await loginForm(request, context) }
        router.post("/login") { request, context in try await login(request, context) }
        router.post("/logout") { request, context in try await logout(request, context) }
        router.get("/") { request, context in try await start(request, context) }
        router.get("/cases/:stream") { request, context in try await casePage(request, context) }
    }

    // MARK: Rendering

    /// Who is signed in: the session's caller (with its CSRF token), else a
    /// caller the municipality's proxy sent with a bearer token.
    func signedIn(_ request: Request, _ context: ServiceContext) -> (caller: Caller, csrf: String)? {
        if let session = sessions.session(Sessions.cookie(Sessions.cookie, in: request)) { return (session.caller, session.csrf) }
        return context.identity.map { ($0, "") }
    }

    func page(_ template: String, title: String, _ data: [String: Any], user: (caller: Caller, csrf: String)?,
              status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        let content = Templates.library.render(data, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": content]
        if let user { layout["user"] = ["name": user.caller.name, "role": Words.role(user.caller.role), "csrf": user.csrf] }
        let html = Templates.library.render(layout, withTemplate: "layout") ?? ""
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .init("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            .init("X-Content-Type-Options")!: "nosniff", .init("Referrer-Policy")!: "no-referrer",
        ]
        for field in extra { headers.append(field) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func message(_ heading: String, _ text: String, status: HTTPResponse.Status, user: (caller: Caller, csrf: String)?) -> Response {
        page("message", title: heading, ["heading": heading, "text": text], user: user, status: status)
    }

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for field in extra { headers.append(field) }
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: Sign-in

    func loginForm(_ request: Request, _ context: ServiceContext, error: String? = nil) async throws -> Response {
        if error == nil, signedIn(request, context) != nil { return Self.redirect("/") }
        let csrf = Sessions.random()
        var data: [String: any Sendable] = ["csrf": csrf]
        if let error { data["error"] = error }
        return page("login", title: "Logg inn", data, user: nil, status: error == nil ? .ok : .unauthorized,
                    headers: [.setCookie: Sessions.setCookie(Sessions.loginCookie, csrf, maxAge: 3600, request: request)])
    }

    func login(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let form = FormFields(Array(buffer: try await request.body.collect(upTo: 16_384)))
        // The sign-in form's own CSRF token: the cookie set with the form, and the field.
        guard let sent = form["csrf"], let expected = Sessions.cookie(Sessions.loginCookie, in: request), sent == expected, !sent.isEmpty else {
            return message("Skjemaet er utløpt", "Last inn innloggingssiden på nytt og prøv igjen.", status: .forbidden, user: nil)
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespaces)
        var caller: Caller?
        if token.hasPrefix("iplog_") {
            caller = try users.authenticate(token: token)?.caller
        } else if let oidc, !token.isEmpty {
            caller = await oidc.caller(for: token)
        }
        guard let caller else {
            return try await loginForm(request, context, error: "Tilgangsnøkkelen er ugyldig, utløpt eller trukket tilbake.")
        }
        let (id, _) = sessions.start(caller)
        return Self.redirect("/", headers: [
            .setCookie: Sessions.setCookie(Sessions.cookie, id, maxAge: Int(Sessions.lifetime), request: request),
        ])
    }

    func logout(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let form = FormFields(Array(buffer: try await request.body.collect(upTo: 16_384)))
        guard let id = Sessions.cookie(Sessions.cookie, in: request), let session = sessions.session(id) else { return Self.redirect("/login") }
        guard form["csrf"] == session.csrf else {
            return message("Skjemaet er utløpt", "Last inn siden på nytt og prøv igjen.", status: .forbidden, user: (session.caller, session.csrf))
        }
        sessions.end(id)
        return Self.redirect("/login", headers: [.setCookie: Sessions.setCookie(Sessions.cookie, "", maxAge: 0, request: request)])
    }

    // MARK: The start page

    func start(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return Self.redirect("/login") }
        let caller = user.caller
        if caller.role == .integration {
            return message("Ingen sider for denne rollen", "Fagsystemer bruker API-et (/v1).", status: .forbidden, user: user)
        }
        let reads = self.reads
        let data: [String: any Sendable] = try await offLoop { () -> [String: any Sendable] in
            try reads.catchUp()
            let today = BusinessDate.today()
            var data: [String: any Sendable] = [:]
            switch caller.role {
            case .coordinator?:
                data["heading"] = "Mine saker"
                let due = try reads.agenda(caller: caller, asOf: today, within: 30)
                data["hasDue"] = !due.isEmpty
                data["noDue"] = due.isEmpty
                data["due"] = due.map { item -> [String: any Sendable] in
                    ["date": Words.date(item.due), "overdue": item.due < today, "stream": item.stream, "what": Words.due(item.what), "ref": item.ref ?? ""]
                }
                let rows = try reads.cases(.init(), caller: caller, reason: nil, showPersonId: false)
                data["hasCases"] = !rows.isEmpty
                data["casesCaption"] = "Sakene der du er koordinator"
                data["cases"] = rows.map { Self.caseRow($0, link: true) }
            case .auditor?:
                data["heading"] = "Revisjon"
                data["intro"] = "Åpne en sak på /cases/{saksnummer} for å se historikken. Hver lesing føres i tilgangsloggen."
            default:
                let unitManager = caller.role == .unitManager
                data["heading"] = unitManager ? "Enhetens fristbrudd" : "Fristbrudd i kommunen"
                data["intro"] = "Fristbrudd er frister som er passert; meldte avvik står for seg selv."
                let open = try reads.deviations(.open(asOf: today), rule: nil, unit: nil, coordinator: nil, caller: caller)
                let byRule = Dictionary(grouping: open, by: \.rule)
                data["hasRules"] = !open.isEmpty
                data["rules"] = DeviationRule.allCases.compactMap { rule -> [String: any Sendable]? in
                    guard let rows = byRule[rule] else { return nil }
                    return ["name": Words.rule(rule), "source": Words.source(rule), "count": rows.count]
                }
                let byUnit = Dictionary(grouping: open, by: { $0.unit ?? "–" })
                data["hasUnits"] = !unitManager && !open.isEmpty
                data["units"] = byUnit.keys.sorted().map { unit -> [String: any Sendable] in ["name": unit, "count": byUnit[unit]!.count] }
                if unitManager {
                    let rows = try reads.cases(.init(status: .active), caller: caller, reason: nil, showPersonId: false)
                    data["hasCases"] = !rows.isEmpty
                    data["casesCaption"] = "Aktive saker i enheten"
                    data["cases"] = rows.map { Self.caseRow($0, link: false) }
                }
            }
            return data
        }
        return page("start", title: data["heading"] as? String ?? "Forside", data, user: user)
    }

    static func caseRow(_ row: Reads.CaseRow, link: Bool) -> [String: any Sendable] {
        ["stream": row.stream, "link": link, "status": Words.status(row.state.status), "unit": row.state.unit ?? "–",
         "coordinator": row.state.activeCoordinator ?? "–", "received": row.state.receivedOn.map(Words.date) ?? "–"]
    }

    // MARK: A case

    func casePage(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return Self.redirect("/login") }
        let stream = try context.parameters.require("stream")
        let reads = self.reads, caller = user.caller
        do {
            let data: [String: any Sendable] = try await offLoop { () -> [String: any Sendable] in
                guard EventStore.isValidStreamID(stream), StreamKind(stream: stream) == .case else { throw AccessDenied.noCase(stream) }
                try reads.catchUp()
                let view = try reads.caseStatus(stream, caller: caller, reason: nil, showPersonId: false)
                let history = try reads.history(stream, asOf: nil, caller: caller, reason: nil, showPersonId: false)
                let person = view.facts.first { $0.key == "personId" }?.value.stringValue ?? "–"
                return [
                    "stream": stream, "status": Words.status(view.state.status), "person": person, "unit": view.state.unit ?? "–",
                    "coordinator": view.state.activeCoordinator ?? "–", "received": view.state.receivedOn.map(Words.date) ?? "–",
                    "version": view.version, "hasOpen": !view.open.isEmpty,
                    "open": view.open.map { ["name": Words.rule($0.rule), "since": Words.date($0.since), "ref": $0.ref ?? "", "source": Words.source($0.rule)] },
                    "chain": history.failing.isEmpty ? "Hashkjeden er kontrollert for alle \(history.entries.count) hendelser."
                        : "Hashkjeden stemmer ikke: loggen er endret. Kjør iplog verify.",
                    "events": history.entries.map { entry -> [String: any Sendable] in
                        let changed = Summary.changes(from: entry.before, to: entry.after).map { "\(Self.fact($0.key)) \(Self.display($0.value))" }
                        return ["date": Words.date(entry.event.occurredOn), "type": Words.eventType(entry.event.type),
                                "recorded": entry.event.recordedAt.description, "actor": entry.event.actor ?? "ukjent",
                                "position": entry.event.position, "version": entry.event.version, "verified": entry.chainVerified,
                                "changed": changed.joined(separator: "; ")]
                    },
                ]
            }
            return page("case", title: "Sak \(stream)", data, user: user)
        } catch let denied as AccessDenied where denied.kind == .notFound {
            return message("Fant ikke saken", "Saken finnes ikke, eller du har ikke tilgang til den.", status: .notFound, user: user)
        } catch let denied as AccessDenied where denied.kind == .forbidden {
            return message("Ingen tilgang", "Rollen din gir ikke tilgang til saksinnhold.", status: .forbidden, user: user)
        }
    }

    static let facts: [String: String] = [
        "status": "status", "unit": "enhet", "receivedOn": "mottatt", "assessedOn": "kartlagt", "consent": "samtykke",
        "decision": "vedtak", "coordinatorId": "koordinator", "groupMembers": "medlemmer i ansvarsgruppen", "meetingsHeld": "møter holdt",
        "lastMeetingOn": "siste møte", "openActionItems": "åpne oppfølgingspunkter", "planEstablishedOn": "plan etablert", "goals": "mål",
        "goalsAchieved": "mål nådd", "measures": "tiltak", "nextEvaluationDue": "neste evaluering", "transitionsPlanned": "planlagte overganger",
        "appeals": "klager", "openDeviations": "åpne fristbrudd", "closedOn": "avsluttet", "personId": "person",
    ]

    static func fact(_ key: String) -> String { facts[key] ?? key }

    /// The catalogue's values as a person reads them.
    static let values: [String: String] = [
        "received": "mottatt", "assessed": "kartlagt", "decided": "vedtak fattet", "active": "aktiv", "closed": "avsluttet", "denied": "avslått",
        "granted": "innvilget", "notRequested": "ikke søkt", "individualPlan": "individuell plan", "coordinator": "koordinator",
        "childCoordinator": "barnekoordinator", "informationSharing": "informasjonsdeling", "decidedOn": "vedtatt",
        "upheld": "opprettholdt", "reversed": "omgjort", "municipality": "kommunen", "statsforvalteren": "statsforvalteren",
    ]

    static func display(_ value: JSONValue) -> String {
        switch value {
        case .null: "–"
        case .string(let s): BusinessDate(iso: s).map(Words.date) ?? values[s] ?? s
        case .bool(let b): b ? "ja" : "nei"
        case .array(let items): items.isEmpty ? "ingen" : items.map(display).joined(separator: ", ")
        case .object(let members): members.map { "\(fact($0.key)) \(display($0.value))" }.joined(separator: ", ")
        default: value.jsonText
        }
    }
}
