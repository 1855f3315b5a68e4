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
    let appends: Appends
    let users: Users
    let oidc: OIDCVerifier?
    let sessions: Sessions
    /// Where the pages live: "" for one store, `/t/NAME` for a tenant's.
    var base = ""

    func addRoutes(to router: some RouterMethods<ServiceContext>) {
        router.get("/login") { request, context in try await loginForm(request, context) }
        router.post("/login") { request, context in try await login(request, context) }
        router.post("/logout") { request, context in try await logout(request, context) }
        router.get("/") { request, context in try await start(request, context) }
        router.get("/cases/:stream") { request, context in try await casePage(request, context) }
        router.get("/reports/deviations") { request, context in try await dashboardPage(request, context) }
        router.get("/cases/:stream/plan") { request, context in try await planPage(request, context) }
        router.get("/reports/workload") { request, context in try await workloadPage(request, context) }
        router.post("/cases/:stream/meetings") { request, context in try await scheduleMeeting(request, context) }
        router.post("/cases/:stream/meetings/held") { request, context in try await recordMeeting(request, context) }
        router.post("/cases/:stream/deviations") { request, context in try await reportDeviation(request, context) }
        router.post("/cases/:stream/items/:item/complete") { request, context in try await completeItem(request, context) }
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
        var data = data
        data["base"] = base
        let content = Templates.library.render(data, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": content, "base": base]
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

    /// Runs a page's work; a case outside the caller's scope, a role that may
    /// not, or an unknown unit become the page that says so.
    func answering(_ user: (caller: Caller, csrf: String), forbidden: String, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let denied as AccessDenied where denied.kind == .notFound {
            return message("Fant ikke saken", "Saken finnes ikke, eller du har ikke tilgang til den.", status: .notFound, user: user)
        } catch let denied as AccessDenied where denied.kind == .forbidden {
            return message("Ingen tilgang", forbidden, status: .forbidden, user: user)
        } catch let error as LogError where error.code == .invalidShape && error.message.hasPrefix("--unit") {
            return message("Fant ikke enheten", "Enheten finnes ikke i kommunen. Sjekk stavemåten.", status: .badRequest, user: user)
        }
    }

    /// A report page's `asOf` (default today; a date that does not read is today) and `unit` (empty: every unit).
    static func reportQuery(_ request: Request) throws -> (asOf: BusinessDate, unit: String?) {
        let query = try Query(request)
        let asOf = ((try? query.date("asOf")) ?? nil) ?? .today()
        return (asOf, query["unit"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 })
    }

    /// The unit a report is limited to, for the section ", enhet X" after its
    /// date; `false` when it covers every unit (a section on an empty string
    /// would still print ", enhet .").
    static func unitText(_ unit: String?) -> any Sendable {
        if let unit, !unit.isEmpty { return unit }
        return false
    }

    /// A redirect to `path` among the pages (under ``base``).
    func redirect(_ path: String, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.location: base + path, .cacheControl: "no-store"]
        for field in extra { headers.append(field) }
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: Sign-in

    func loginForm(_ request: Request, _ context: ServiceContext, error: String? = nil) async throws -> Response {
        if error == nil, signedIn(request, context) != nil { return redirect("/") }
        let csrf = Sessions.random()
        var data: [String: any Sendable] = ["csrf": csrf]
        if let error { data["error"] = error }
        return page("login", title: "Logg inn", data, user: nil, status: error == nil ? .ok : .unauthorized,
                    headers: [.setCookie: Sessions.setCookie(Sessions.loginCookie, csrf, maxAge: 3600, request: request, path: base)])
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
        return redirect("/", headers: [
            .setCookie: Sessions.setCookie(Sessions.cookie, id, maxAge: Int(Sessions.lifetime), request: request, path: base),
        ])
    }

    func logout(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let form = FormFields(Array(buffer: try await request.body.collect(upTo: 16_384)))
        guard let id = Sessions.cookie(Sessions.cookie, in: request), let session = sessions.session(id) else { return redirect("/login") }
        guard form["csrf"] == session.csrf else {
            return message("Skjemaet er utløpt", "Last inn siden på nytt og prøv igjen.", status: .forbidden, user: (session.caller, session.csrf))
        }
        sessions.end(id)
        return redirect("/login", headers: [.setCookie: Sessions.setCookie(Sessions.cookie, "", maxAge: 0, request: request, path: base)])
    }

    // MARK: The start page

    func start(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return redirect("/login") }
        let caller = user.caller
        switch caller.role {
        case .integration?:
            return message("Ingen sider for denne rollen", "Fagsystemer bruker API-et (/v1).", status: .forbidden, user: user)
        case .auditor?:
            return page("start", title: "Revisjon", ["heading": "Revisjon",
                        "intro": "Åpne en sak på /cases/{saksnummer} for å se historikken. Hver lesing føres i tilgangsloggen."], user: user)
        case .coordinator?:
            let reads = self.reads
            let data: [String: any Sendable] = try await offLoop {
                try reads.catchUp()
                let today = BusinessDate.today()
                let due = try reads.agenda(caller: caller, asOf: today, within: 30)
                let rows = try reads.cases(.init(), caller: caller, reason: nil, showPersonId: false)
                return [
                    "heading": "Mine saker", "hasDue": !due.isEmpty, "noDue": due.isEmpty,
                    "due": due.map { item -> [String: any Sendable] in
                        ["date": Words.date(item.due), "overdue": item.due < today, "stream": item.stream, "what": Words.due(item.what), "ref": item.ref ?? ""]
                    },
                    "hasCases": !rows.isEmpty, "casesCaption": "Sakene der du er koordinator", "cases": rows.map { Self.caseRow($0, link: true) },
                ]
            }
            return page("start", title: "Mine saker", data, user: user)
        default:
            return try await dashboardResponse(user: user, asOf: .today(), unit: nil)
        }
    }

    // MARK: The dashboard

    /// `GET /reports/deviations?asOf=&unit=`: the dashboard of a unit or the municipality.
    func dashboardPage(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return redirect("/login") }
        let (asOf, unit) = try Self.reportQuery(request)
        return try await dashboardResponse(user: user, asOf: asOf, unit: unit)
    }

    func dashboardResponse(user: (caller: Caller, csrf: String), asOf: BusinessDate, unit: String?) async throws -> Response {
        let reads = self.reads, caller = user.caller
        return try await answering(user, forbidden: "Rollen din gir ikke tilgang til denne rapporten.") {
            let data = try await offLoop {
                try reads.catchUp()
                return try Self.dashboard(reads, caller: caller, asOf: asOf, unit: unit)
            }
            return page("dashboard", title: data["heading"] as? String ?? "Fristbrudd", data, user: user)
        }
    }

    /// `GET /reports/workload?asOf=&unit=`: per unit and per coordinator, within the caller's scope.
    func workloadPage(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return redirect("/login") }
        let (asOf, unit) = try Self.reportQuery(request)
        let reads = self.reads, caller = user.caller
        return try await answering(user, forbidden: "Rollen din gir ikke tilgang til denne rapporten.") {
            let data: [String: any Sendable] = try await offLoop {
                try reads.catchUp()
                let workload = try reads.workload(asOf: asOf, unit: unit, caller: caller)
                return [
                    "asOfText": Words.date(asOf), "unit": unit ?? caller.unit ?? "", "unitText": Self.unitText(unit ?? caller.unit),
                    "hasUnits": !workload.units.isEmpty,
                    "units": workload.units.map { u -> [String: any Sendable] in
                        ["unit": u.unit, "coordinators": u.coordinators, "active": u.activeCases, "held": u.meetingsLast90Days, "open": u.openDeviations, "trained": u.trained]
                    },
                    "workload": workload.rows.map { r -> [String: any Sendable] in
                        ["id": r.coordinatorId + (r.deactivated ? " (deaktivert)" : ""), "unit": r.unit, "active": r.activeCases, "held": r.meetingsLast90Days,
                         "ahead": r.meetingsScheduledAhead, "open": r.openDeviations, "trained": r.trained ? "ja" : "nei"]
                    },
                ]
            }
            return page("workload", title: "Arbeidsmengde", data, user: user)
        }
    }

    /// The dashboard's numbers: open fristbrudd by rule and by coordinator,
    /// the open count at each of the last 12 month ends, those closed in the
    /// last 30 days and how long they were open, and the coordinators' workload.
    static func dashboard(_ reads: Reads, caller: Caller, asOf: BusinessDate, unit: String?, months: Int = 12) throws -> [String: any Sendable] {
        let unitManager = caller.role == .unitManager
        let open = try reads.deviations(.open(asOf: asOf), rule: nil, unit: unit, coordinator: nil, caller: caller)
        let byRule = Dictionary(grouping: open, by: \.rule)
        let ruleRows = DeviationRule.allCases.compactMap { rule in byRule[rule].map { (rule, $0.count) } }.sorted { $0.1 > $1.1 }
        let byUnit = Dictionary(grouping: open, by: { $0.unit ?? "uten enhet" })
        let unitRows = byUnit.map { ($0.key, $0.value.count) }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }
        let byCoordinator = Dictionary(grouping: open, by: { $0.coordinatorId ?? "uten koordinator" })
        let coordinatorRows = byCoordinator.map { ($0.key, $0.value.count) }.sorted { ($1.1, $0.0) < ($0.1, $1.0) }.prefix(20)
        var trend: [(label: String, value: Int)] = []
        let (year, month, _) = asOf.parts
        for back in (0..<months).reversed() {
            let total = year * 12 + (month - 1) - back
            let (y, m) = (total / 12, total % 12 + 1)
            let firstOfNext = BusinessDate(year: (y * 12 + m) / 12, month: (y * 12 + m) % 12 + 1, day: 1)!
            let end = min(firstOfNext.adding(days: -1), asOf)
            let count = try reads.deviations(.open(asOf: end), rule: nil, unit: unit, coordinator: nil, caller: caller).count
            trend.append((String(format: "%02d.%02d", m, y % 100), count))
        }
        let closed = try reads.deviations(.closed(from: asOf.adding(days: -30), to: asOf), rule: nil, unit: unit, coordinator: nil, caller: caller)
        let workload = (try? reads.workload(asOf: asOf, unit: unit, caller: caller))?.rows ?? []
        var data: [String: any Sendable] = [
            "heading": unitManager ? "Enhetens fristbrudd" : caller.role == .coordinator ? "Fristbrudd i dine saker"
                : (unit.map { "Fristbrudd i \($0)" } ?? "Fristbrudd i kommunen"),
            "asOf": asOf.description, "asOfText": Words.date(asOf), "unit": unitManager ? (caller.unit ?? "") : (unit ?? ""),
            "unitText": Self.unitText(unitManager ? caller.unit : unit),
            "unitChoice": !unitManager, "total": open.count, "interactive": true, "months": months,
            "byRuleChart": Charts.bars(title: "Åpne fristbrudd etter regel", ruleRows.map { (Words.rule($0.0), $0.1) }),
            "byRule": ruleRows.map { ["label": Words.rule($0.0), "source": Words.source($0.0), "value": $0.1] as [String: any Sendable] },
            "everyUnit": !unitManager && unit == nil && !unitRows.isEmpty,
            "byUnitChart": Charts.bars(title: "Åpne fristbrudd etter enhet", unitRows.map { ($0.0, $0.1) }),
            "byUnit": unitRows.map { row -> [String: any Sendable] in
                ["label": row.0, "value": row.1, "query": row.0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""]
            },
            "byCoordinatorChart": Charts.bars(title: "Åpne fristbrudd etter koordinator", coordinatorRows.map { ($0.0, $0.1) }),
            "byCoordinator": coordinatorRows.map { ["label": $0.0, "value": $0.1] as [String: any Sendable] },
            "trendChart": Charts.line(title: "Åpne fristbrudd ved hver månedsslutt", trend),
            "trend": trend.map { ["label": $0.label, "value": $0.value] as [String: any Sendable] },
            "hasClosed": !closed.isEmpty,
            "closed": closed.map { row -> [String: any Sendable] in
                ["stream": row.stream, "rule": Words.rule(row.rule), "since": Words.date(row.since), "ended": row.end.map(Words.date) ?? "–", "days": row.daysOpen]
            },
            "hasWorkload": !workload.isEmpty,
            "workload": workload.map { r -> [String: any Sendable] in
                ["id": r.coordinatorId + (r.deactivated ? " (deaktivert)" : ""), "unit": r.unit, "active": r.activeCases, "held": r.meetingsLast90Days,
                 "ahead": r.meetingsScheduledAhead, "open": r.openDeviations, "trained": r.trained ? "ja" : "nei"]
            },
        ]
        if unitManager {
            data["unit"] = caller.unit ?? ""
        }
        return data
    }

    static func caseRow(_ row: Reads.CaseRow, link: Bool) -> [String: any Sendable] {
        ["stream": row.stream, "link": link, "status": Words.status(row.state.status), "unit": row.state.unit ?? "–",
         "coordinator": row.state.activeCoordinator ?? "–", "received": row.state.receivedOn.map(Words.date) ?? "–"]
    }

    // MARK: A case

    func casePage(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return redirect("/login") }
        return try await renderCase(try context.parameters.require("stream"), user: user, form: FormState())
    }

    /// What a form sent back to the case page holds: what was typed, and the errors beside its fields.
    struct FormState: Sendable {
        var values: [String: String] = [:]
        var errors: [String: String] = [:]
        var status: HTTPResponse.Status = .ok
    }

    func renderCase(_ stream: String, user: (caller: Caller, csrf: String), form: FormState) async throws -> Response {
        let reads = self.reads, caller = user.caller
        let rules = appends.rules, hasSession = !user.csrf.isEmpty
        let may = { @Sendable (type: String) -> Bool in (try? rules.checkAppend(type, by: caller)) != nil && hasSession }
        return try await answering(user, forbidden: "Rollen din gir ikke tilgang til saksinnhold.") {
            let data: [String: any Sendable] = try await offLoop { () -> [String: any Sendable] in
                guard EventStore.isValidStreamID(stream), StreamKind(stream: stream) == .case else { throw AccessDenied.noCase(stream) }
                try reads.catchUp()
                let view = try reads.caseStatus(stream, caller: caller, reason: nil, showPersonId: false)
                let history = try reads.history(stream, asOf: nil, caller: caller, reason: nil, showPersonId: false)
                let person = view.facts.first { $0.key == "personId" }?.value.stringValue ?? "–"
                let open = view.state.isOpen
                let items = view.state.items.filter { $0.value.completedOn == nil }.sorted { ($0.value.dueOn, $0.key) < ($1.value.dueOn, $1.key) }
                let forms: [String: any Sendable] = [
                    "stream": stream, "csrf": user.csrf,
                    "meeting": open && may("MeetingScheduled")
                        ? ["value": form.values["scheduledFor"] ?? "", "error": form.errors["scheduledFor"] ?? ""] as [String: any Sendable] : false,
                    "held": open && may("MeetingHeld") ? Self.heldForm(view.state, form) : false,
                    "hasItems": open && may("ActionItemCompleted") && !items.isEmpty, "itemError": form.errors["item"] ?? "",
                    "items": items.map { ["id": $0.key, "meeting": $0.value.meetingId, "due": Words.date($0.value.dueOn)] as [String: any Sendable] },
                    "deviation": may("DeviationReported")
                        ? ["category": form.values["category"] ?? "", "description": form.values["description"] ?? "",
                           "categoryError": form.errors["category"] ?? "", "descriptionError": form.errors["description"] ?? ""] as [String: any Sendable] : false,
                ]
                return [
                    "forms": forms,
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
            return page("case", title: "Sak \(stream)", data, user: user, status: form.status)
        }
    }

    /// `GET /cases/{stream}/plan`: the individual plan as a document (see ``PlanHTML``).
    func planPage(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let user = signedIn(request, context) else { return redirect("/login") }
        let stream = try context.parameters.require("stream"), reads = self.reads, caller = user.caller
        return try await answering(user, forbidden: "Rollen din gir ikke tilgang til planen.") {
            let plan = try await offLoop { () -> Reads.PlanDocument in
                guard EventStore.isValidStreamID(stream), StreamKind(stream: stream) == .case else { throw AccessDenied.noCase(stream) }
                return try reads.plan(stream, caller: caller, reason: nil)
            }
            return Response(status: .ok, headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                .init("X-Content-Type-Options")!: "nosniff",
            ], body: .init(byteBuffer: ByteBuffer(string: PlanHTML.render(plan))))
        }
    }

    // MARK: Forms

    /// A form's post: the signed-in session and its CSRF token, or an answer refusing it.
    func formPost(_ request: Request, _ context: ServiceContext) async throws -> (session: Sessions.Session, form: FormFields, stream: String)? {
        guard let session = sessions.session(Sessions.cookie(Sessions.cookie, in: request)) else { return nil }
        let form = FormFields(Array(buffer: try await request.body.collect(upTo: 65_536)))
        guard let sent = form["csrf"], sent == session.csrf else { return nil }
        return (session, form, try context.parameters.require("stream"))
    }

    func refusedForm(_ request: Request) -> Response {
        let user = sessions.session(Sessions.cookie(Sessions.cookie, in: request)).map { ($0.caller, $0.csrf) }
        return message("Skjemaet er utløpt", "Last inn siden på nytt og prøv igjen. Ingenting ble lagret.", status: .forbidden, user: user)
    }

    /// Appends one event from a form; the case page again, with the refusal
    /// beside `field` and what was typed kept, when it is refused.
    func submit(_ type: String, _ data: JSONValue, stream: String, session: Sessions.Session, field: String, typed: [String: String]) async throws -> Response {
        let user = (session.caller, session.csrf)
        do {
            let event = try API.event(.object(["type": .string(type), "data": data]), stream: stream, today: .today())
            _ = try await appends.append([event], caller: session.caller)
            return redirect("/cases/\(stream)#historikk")
        } catch {
            let report = ErrorReport(error)
            if report.kind == .notFound || report.kind == .forbidden {
                return message("Ingen tilgang", "Du kan ikke registrere dette i saken.", status: report.kind == .notFound ? .notFound : .forbidden, user: user)
            }
            var state = FormState(values: typed, status: report.kind == .refused ? .unprocessableContent : .badRequest)
            state.errors[Self.field(of: report) ?? field] = Self.norwegian(report)
            return try await renderCase(stream, user: user, form: state)
        }
    }

    /// The form field a refusal names (`data.description` → `description`), if any.
    static func field(of report: ErrorReport) -> String? {
        guard let range = report.message.range(of: #"data\.([A-Za-z]+)"#, options: .regularExpression) else { return nil }
        return String(report.message[range].dropFirst(5))
    }

    /// A refusal in bokmål.
    static func norwegian(_ report: ErrorReport) -> String {
        let messages: [String: String] = [
            "caseNotOpen": "Saken er ikke åpen.", "caseAlreadyOpen": "Saken er allerede åpnet.",
            "personHasOpenCase": "Personen har allerede en åpen sak.", "caseClosed": "Saken er avsluttet.",
            "assessmentRequired": "Saken må kartlegges først.", "consentRequired": "Dette krever samtykke fra personen.",
            "decisionRequired": "Dette krever et vedtak først.", "planRequired": "Dette krever en etablert plan.",
            "coordinatorUnavailable": "Koordinatoren er ikke tilgjengelig.", "coordinatorAlreadyActive": "Saken har allerede en aktiv koordinator.",
            "coordinatorRequired": "Saken må ha en koordinator først.", "unknownReference": "Det det vises til, finnes ikke i saken.",
            "duplicateId": "Denne id-en er allerede brukt i saken.", "dateOutOfRange": "Datoen er utenfor det som er tillatt her.",
            "unknownUnit": "Enheten er ikke en av kommunens.", "personErased": "Personens opplysninger er slettet.",
            "invalidDate": "Skriv en dato som finnes.", "invalidShape": "Fyll ut feltet.",
        ]
        return (messages[report.code] ?? "Det ble ikke lagret.") + " (\(report.code))"
    }

    /// The next free id with `prefix` among `taken` (m-1, m-2, …).
    static func nextID(_ prefix: String, taken: some Collection<String>) -> String {
        var n = taken.count + 1
        while taken.contains(prefix + String(n)) { n += 1 }
        return prefix + String(n)
    }

    func caseState(_ stream: String) async throws -> CaseState {
        try await offLoop { try DomainPolicy.keptState(of: stream, in: reads.log) }
    }

    func scheduleMeeting(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let (session, form, stream) = try await formPost(request, context) else { return refusedForm(request) }
        let date = form["scheduledFor"] ?? ""
        let id = Self.nextID("m-", taken: try await caseState(stream).meetings.keys)
        return try await submit("MeetingScheduled", .object(["meetingId": .string(id), "scheduledFor": .string(date)]), stream: stream,
                                session: session, field: "scheduledFor", typed: ["scheduledFor": date])
    }

    func reportDeviation(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let (session, form, stream) = try await formPost(request, context) else { return refusedForm(request) }
        let category = (form["category"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let description = (form["description"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let typed = ["category": form["category"] ?? "", "description": form["description"] ?? ""]
        if category.isEmpty || description.isEmpty {
            var state = FormState(values: typed, status: .badRequest)
            if category.isEmpty { state.errors["category"] = "Skriv en kategori." }
            if description.isEmpty { state.errors["description"] = "Beskriv hva som skjedde." }
            return try await renderCase(stream, user: (session.caller, session.csrf), form: state)
        }
        let id = Self.nextID("d-", taken: try await caseState(stream).deviations.keys)
        return try await submit("DeviationReported", .object([
            "deviationId": .string(id), "reportedOn": .string(BusinessDate.today().description), "category": .string(category),
            "description": .string(description),
        ]), stream: stream, session: session, field: "description", typed: typed)
    }

    /// The form for a meeting held: the meetings scheduled and not yet held
    /// (or a new one), and three rows for action items.
    static func heldForm(_ state: CaseState, _ form: FormState) -> [String: any Sendable] {
        let waiting = state.meetings.filter { $0.value.heldOn == nil && $0.value.cancelledOn == nil }
            .sorted { ($0.value.scheduledFor ?? .init(daysSinceEpoch: 0), $0.key) < ($1.value.scheduledFor ?? .init(daysSinceEpoch: 0), $1.key) }
        let chosen = form.values["meetingId"] ?? waiting.first?.key ?? "ny"
        var choices: [[String: any Sendable]] = waiting.map { id, meeting in
            ["id": id, "text": "\(id), berammet \(meeting.scheduledFor.map(Words.date) ?? "uten dato")", "selected": id == chosen]
        }
        choices.append(["id": "ny", "text": "Et møte som ikke var berammet", "selected": chosen == "ny"])
        return [
            "choices": choices, "heldOn": form.values["heldOn"] ?? "", "attendees": form.values["attendees"] ?? "",
            "minutesWritten": form.values["minutesWritten"] == "true",
            "heldOnError": form.errors["heldOn"] ?? "", "attendeesError": form.errors["attendees"] ?? "",
            "itemError": form.errors["actionItems"] ?? "",
            "rows": (1...3).map { n -> [String: any Sendable] in
                ["n": n, "description": form.values["item\(n)Description"] ?? "", "responsible": form.values["item\(n)Responsible"] ?? "",
                 "dueOn": form.values["item\(n)DueOn"] ?? ""]
            },
        ]
    }

    func recordMeeting(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let (session, form, stream) = try await formPost(request, context) else { return refusedForm(request) }
        let state = try await caseState(stream)
        var typed = form.values
        typed["csrf"] = nil
        let meetingId = form["meetingId"].flatMap { $0 == "ny" ? nil : $0 } ?? Self.nextID("m-", taken: state.meetings.keys)
        let attendees = (form["attendees"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var items: [JSONValue] = []
        var taken = Array(state.items.keys)
        for n in 1...3 {
            let description = (form["item\(n)Description"] ?? "").trimmingCharacters(in: .whitespaces)
            let responsible = (form["item\(n)Responsible"] ?? "").trimmingCharacters(in: .whitespaces)
            let dueOn = form["item\(n)DueOn"] ?? ""
            guard !(description.isEmpty && responsible.isEmpty && dueOn.isEmpty) else { continue }
            let id = Self.nextID("i-", taken: taken)
            taken.append(id)
            items.append(.object(["itemId": .string(id), "description": .string(description), "responsible": .string(responsible), "dueOn": .string(dueOn)]))
        }
        if attendees.isEmpty {
            return try await renderCase(stream, user: (session.caller, session.csrf),
                                        form: FormState(values: typed, errors: ["attendees": "Skriv hvem som deltok."], status: .badRequest))
        }
        var data: [JSONValue.Member] = [
            .init("meetingId", .string(meetingId)), .init("heldOn", .string(form["heldOn"] ?? "")),
            .init("attendees", .array(attendees.map(JSONValue.string))), .init("minutesWritten", .bool(form["minutesWritten"] == "true")),
        ]
        if !items.isEmpty { data.append(.init("actionItems", .array(items))) }
        return try await submit("MeetingHeld", .object(data), stream: stream, session: session, field: "heldOn", typed: typed)
    }

    func completeItem(_ request: Request, _ context: ServiceContext) async throws -> Response {
        guard let (session, _, stream) = try await formPost(request, context) else { return refusedForm(request) }
        let item = try context.parameters.require("item")
        return try await submit("ActionItemCompleted", .object(["itemId": .string(item), "completedOn": .string(BusinessDate.today().description)]),
                                stream: stream, session: session, field: "item", typed: [:])
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
        "confirmed": "stadfestet", "reversed": "omgjort", "partlyReversed": "delvis omgjort", "quashed": "opphevet",
        "dismissed": "avvist", "withdrawn": "trukket", "municipality": "kommunen", "countyGovernor": "statsforvalteren",
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
