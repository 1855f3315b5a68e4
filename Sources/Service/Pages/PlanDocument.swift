import Application
import Domain
import EventLog
import Mustache

/// The individual plan as one self-contained HTML document in bokmål, with a
/// print stylesheet (A4, page numbers, tables that break between rows, never
/// inside one), ready to be archived with the case: the page
/// `GET /cases/{stream}/plan` and `iplog plan STREAM --html`.
public enum PlanHTML {
    static let template = try! MustacheTemplate(string: """
    <!DOCTYPE html>
    <html lang="nb">
    <head>
    <meta charset="utf-8">
    <title>Individuell plan – {{stream}}</title>
    <style>
    body { font-family: "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b; line-height: 1.45; margin: 2rem auto; max-width: 48rem; padding: 0 1rem; }
    h1 { font-size: 1.8rem; margin-bottom: .25rem; } h2 { font-size: 1.25rem; margin-top: 1.75rem; border-bottom: 2px solid #0b3d66; }
    table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: .3rem .5rem .3rem 0; border-bottom: 1px solid #767676; }
    tr { break-inside: avoid; } thead { display: table-header-group; }
    dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1.5rem; } dt { font-weight: bold; }
    .merknad { font-size: .9rem; color: #3b3b3b; }
    @page { size: A4; margin: 20mm 18mm 22mm; @bottom-right { content: "Side " counter(page) " av " counter(pages); font-size: 9pt; } @bottom-left { content: "Individuell plan – {{stream}}"; font-size: 9pt; } }
    @media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
    </style>
    </head>
    <body>
    <main>
    <h1>Individuell plan</h1>
    <p>Sak {{stream}}, utskrevet {{printed}} (versjon {{version}} av saken).</p>
    {{#erased}}<p class="merknad">Personens opplysninger er slettet etter endt oppbevaringstid; de vises som [erased].</p>{{/erased}}
    <h2>Personen</h2>
    <dl><dt>Fødselsnummer</dt><dd>{{person}}</dd><dt>Status</dt><dd>{{status}}</dd><dt>Enhet</dt><dd>{{unit}}</dd>{{#established}}<dt>Planen ble etablert</dt><dd>{{established}}</dd>{{/established}}</dl>
    <h2>Koordinator</h2>
    {{#coordinator}}<dl><dt>Koordinator</dt><dd>{{name}} ({{id}})</dd><dt>Enhet</dt><dd>{{unit}}</dd></dl>
    {{/coordinator}}
    {{^coordinator}}<p>Saken har ingen koordinator nå.</p>{{/coordinator}}
    <p>Koordinerende enhet: {{contact}}</p>
    <h2>Ansvarsgruppen</h2>
    {{#hasMembers}}<table><thead><tr><th scope="col">Rolle</th><th scope="col">Virksomhet</th></tr></thead>
    <tbody>{{#members}}<tr><td>{{role}}</td><td>{{organisation}}</td></tr>{{/members}}</tbody></table>{{/hasMembers}}
    {{^hasMembers}}<p>Ingen medlemmer er registrert.</p>{{/hasMembers}}
    <h2>Mål</h2>
    {{#hasGoals}}<table><thead><tr><th scope="col">Mål</th><th scope="col">Sikt</th><th scope="col">Nådd</th></tr></thead>
    <tbody>{{#goals}}<tr><td>{{description}}</td><td>{{horizon}}</td><td>{{achieved}}</td></tr>{{/goals}}</tbody></table>{{/hasGoals}}
    {{^hasGoals}}<p>Ingen mål er satt.</p>{{/hasGoals}}
    <h2>Tiltak</h2>
    {{#hasMeasures}}<table><thead><tr><th scope="col">Tiltak</th><th scope="col">Ansvarlig</th></tr></thead>
    <tbody>{{#measures}}<tr><td>{{description}}</td><td>{{responsible}}</td></tr>{{/measures}}</tbody></table>{{/hasMeasures}}
    {{^hasMeasures}}<p>Ingen tiltak er registrert.</p>{{/hasMeasures}}
    <h2>Evaluering</h2>
    <dl><dt>Neste evaluering</dt><dd>{{nextEvaluation}}</dd>{{#lastEvaluation}}<dt>Sist evaluert</dt><dd>{{on}}: {{summary}}</dd>{{/lastEvaluation}}</dl>
    <h2>Planlagte overganger</h2>
    {{#hasTransitions}}<table><thead><tr><th scope="col">Overgang</th><th scope="col">Planlagt til</th></tr></thead>
    <tbody>{{#transitions}}<tr><td>{{what}}</td><td>{{when}}</td></tr>{{/transitions}}</tbody></table>{{/hasTransitions}}
    {{^hasTransitions}}<p>Ingen overganger er planlagt.</p>{{/hasTransitions}}
    <h2>Samtykke</h2>
    {{#hasConsent}}<ul>{{#consent}}<li>{{scope}}, gitt {{since}}</li>{{/consent}}</ul>{{/hasConsent}}
    {{^hasConsent}}<p>Det er ikke gitt samtykke som gjelder nå.</p>{{/hasConsent}}
    <p class="merknad">Du har rett til å se hvem som har lest opplysningene dine. Spør koordinerende enhet.</p>
    </main>
    </body>
    </html>
    """)

    static let scopes = ["individualPlan": "individuell plan", "coordinator": "koordinator", "informationSharing": "deling av opplysninger i ansvarsgruppen"]

    /// The plan as one HTML document.
    public static func render(_ plan: Reads.PlanDocument, printed: BusinessDate = .today()) -> String {
        var data: [String: Any] = [
            "stream": plan.stream, "printed": Words.date(printed), "version": plan.version, "erased": plan.personalDataErased,
            "person": plan.personId ?? "–", "contact": plan.contact ?? "ta kontakt med kommunens sentralbord og spør etter koordinerende enhet", "status": Words.status(plan.status), "unit": plan.unit ?? "–",
            "hasMembers": !plan.members.isEmpty, "members": plan.members.map { ["role": $0.role, "organisation": $0.organisation] },
            "hasGoals": !plan.goals.isEmpty,
            "goals": plan.goals.map { ["description": $0.description, "horizon": $0.horizon == "long" ? "lang sikt" : "kort sikt",
                                       "achieved": $0.achievedOn.map(Words.date) ?? "ikke ennå"] },
            "hasMeasures": !plan.measures.isEmpty,
            "measures": plan.measures.map { ["description": $0.description, "responsible": $0.responsible ?? "ikke avklart"] },
            "nextEvaluation": plan.nextEvaluationDue.map(Words.date) ?? "ikke fastsatt",
            "hasTransitions": !plan.transitions.isEmpty, "transitions": plan.transitions.map { ["what": $0.what, "when": Words.date($0.plannedFor)] },
            "hasConsent": !plan.consent.isEmpty, "consent": plan.consent.map { ["scope": scopes[$0.scope] ?? $0.scope, "since": Words.date($0.since)] },
        ]
        if let established = plan.establishedOn { data["established"] = Words.date(established) }
        if let id = plan.coordinatorId { data["coordinator"] = ["id": id, "name": plan.coordinatorName ?? "–", "unit": plan.coordinatorUnit ?? "–"] }
        if let last = plan.lastEvaluation { data["lastEvaluation"] = ["on": Words.date(last.on), "summary": last.summary] }
        return template.render(data)
    }
}
