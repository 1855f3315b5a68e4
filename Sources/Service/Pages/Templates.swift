import Mustache

/// The pages' templates (Mustache; `{{x}}` is HTML-escaped, so free text
/// such as `<script>` is shown as text, never run). Kept in the code, so the
/// binary needs no files beside it.
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [("layout", layout), ("login", login), ("start", start), ("case", casePage), ("message", message), ("dashboard", dashboard), ("workload", workload)] {
            try! library.register(text, named: name)
        }
        return library
    }()

    static let layout = """
    <!DOCTYPE html>
    <html lang="nb">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} – iplog</title>
    <style>
    :root { color-scheme: light; }
    body { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; margin: 0; color: #1b1b1b; background: #fff; line-height: 1.5; }
    a { color: #0b4f8a; }
    a:focus, button:focus, input:focus { outline: 3px solid #c25100; outline-offset: 2px; }
    .hopp { position: absolute; left: -999px; } .hopp:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
    header { background: #0b3d66; color: #fff; padding: .75rem 1.5rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; justify-content: space-between; }
    header a, header .bruker { color: #fff; }
    header form { display: inline; }
    button { font: inherit; padding: .4rem .9rem; border: 2px solid #0b3d66; background: #0b3d66; color: #fff; border-radius: 4px; cursor: pointer; }
    header button { border-color: #fff; }
    main { padding: 1rem 1.5rem 3rem; max-width: 70rem; }
    table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
    th, td { text-align: left; padding: .35rem .8rem .35rem 0; border-bottom: 1px solid #767676; vertical-align: top; }
    caption { text-align: left; font-weight: bold; padding-bottom: .25rem; }
    .forfalt { color: #a4161a; font-weight: bold; }
    .feil { color: #a4161a; font-weight: bold; }
    label { display: block; font-weight: bold; margin-top: 1rem; }
    input[type=password], input[type=text], input[type=date], textarea, select { font: inherit; padding: .4rem; border: 2px solid #595959; border-radius: 4px; min-width: 20rem; }
    dl.kort { display: grid; grid-template-columns: max-content auto; gap: .25rem 1.5rem; }
    dl.kort dt { font-weight: bold; }
    ol.tidslinje { list-style: none; padding: 0; } ol.tidslinje li { border-left: 3px solid #0b3d66; padding: .25rem 0 .75rem 1rem; }
    </style>
    </head>
    <body>
    <a class="hopp" href="#innhold">Hopp til innholdet</a>
    <header>
    {{#user}}<a href="{{base}}/"><strong>iplog</strong> – individuell plan og koordinator</a>{{/user}}{{^user}}<span><strong>iplog</strong> – individuell plan og koordinator</span>{{/user}}
    {{#user}}<span class="bruker">{{name}} ({{role}})</span>
    <form method="post" action="{{base}}/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Logg ut</button></form>{{/user}}
    </header>
    <main id="innhold">
    {{{content}}}
    </main>
    </body>
    </html>
    """

    static let login = """
    <h1>Logg inn</h1>
    <p>Logg inn med tilgangsnøkkelen du har fått fra koordinerende enhet, eller gjennom kommunens pålogging.</p>
    <form method="post" action="{{base}}/login">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label for="token">Tilgangsnøkkel</label>
    <input type="password" id="token" name="token" autocomplete="current-password" required{{#error}} aria-invalid="true" aria-describedby="token-feil"{{/error}}>
    {{#error}}<p id="token-feil" class="feil" role="alert">{{error}}</p>{{/error}}
    <p><button type="submit">Logg inn</button></p>
    </form>
    """

    static let start = """
    <h1>{{heading}}</h1>
    {{#intro}}<p>{{intro}}</p>{{/intro}}
    {{#hasDue}}
    <table>
    <caption>Forfalt og det som forfaller de neste 30 dagene, eldste først</caption>
    <thead><tr><th scope="col">Frist</th><th scope="col">Sak</th><th scope="col">Hva</th><th scope="col">Gjelder</th></tr></thead>
    <tbody>
    {{#due}}<tr><td{{#overdue}} class="forfalt"{{/overdue}}>{{date}}{{#overdue}} (forfalt){{/overdue}}</td><td><a href="{{base}}/cases/{{stream}}">{{stream}}</a></td><td>{{what}}</td><td>{{ref}}</td></tr>
    {{/due}}
    </tbody>
    </table>
    {{/hasDue}}
    {{#noDue}}<p>Ingenting er forfalt eller forfaller de neste 30 dagene.</p>{{/noDue}}
    {{#hasCases}}
    <table>
    <caption>{{casesCaption}}</caption>
    <thead><tr><th scope="col">Sak</th><th scope="col">Status</th><th scope="col">Enhet</th><th scope="col">Koordinator</th><th scope="col">Mottatt</th></tr></thead>
    <tbody>
    {{#cases}}<tr><td>{{#link}}<a href="{{base}}/cases/{{stream}}">{{stream}}</a>{{/link}}{{^link}}{{stream}}{{/link}}</td><td>{{status}}</td><td>{{unit}}</td><td>{{coordinator}}</td><td>{{received}}</td></tr>
    {{/cases}}
    </tbody>
    </table>
    {{/hasCases}}
    """

    static let casePage = """
    <h1>Sak {{stream}}</h1>
    <p><a href="{{base}}/cases/{{stream}}/plan">Den individuelle planen som dokument (for utskrift og arkiv)</a></p>
    <h2>Status</h2>
    <dl class="kort">
    <dt>Status</dt><dd>{{status}}</dd>
    <dt>Person</dt><dd>{{person}}</dd>
    <dt>Enhet</dt><dd>{{unit}}</dd>
    <dt>Koordinator</dt><dd>{{coordinator}}</dd>
    <dt>Mottatt</dt><dd>{{received}}</dd>
    <dt>Versjon</dt><dd>{{version}}</dd>
    </dl>
    <h2>Åpne fristbrudd</h2>
    {{#hasOpen}}
    <table>
    <caption>Fristbrudd som er åpne i dag</caption>
    <thead><tr><th scope="col">Fristbrudd</th><th scope="col">Siden</th><th scope="col">Gjelder</th><th scope="col">Hjemmel</th></tr></thead>
    <tbody>
    {{#open}}<tr><td>{{name}}</td><td>{{since}}</td><td>{{ref}}</td><td>{{source}}</td></tr>
    {{/open}}
    </tbody>
    </table>
    {{/hasOpen}}
    {{^hasOpen}}<p>Ingen åpne fristbrudd.</p>{{/hasOpen}}
    {{#forms}}
    {{#meeting}}
    <h2>Berame møte i ansvarsgruppen</h2>
    <form method="post" action="{{base}}/cases/{{stream}}/meetings">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label for="scheduledFor">Dato for møtet</label>
    <input type="date" id="scheduledFor" name="scheduledFor" value="{{value}}" required{{#error}} aria-invalid="true" aria-describedby="scheduledFor-feil"{{/error}}>
    {{#error}}<p id="scheduledFor-feil" class="feil" role="alert">{{error}}</p>{{/error}}
    <p><button type="submit">Berame møtet</button></p>
    </form>
    {{/meeting}}
    {{#held}}
    <h2>Registrer holdt møte</h2>
    <form method="post" action="{{base}}/cases/{{stream}}/meetings/held">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label for="meetingId">Møte</label>
    <select id="meetingId" name="meetingId">{{#choices}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{text}}</option>{{/choices}}</select>
    <label for="heldOn">Dato møtet ble holdt</label>
    <input type="date" id="heldOn" name="heldOn" value="{{heldOn}}" required{{#heldOnError}} aria-invalid="true" aria-describedby="heldOn-feil"{{/heldOnError}}>
    {{#heldOnError}}<p id="heldOn-feil" class="feil" role="alert">{{heldOnError}}</p>{{/heldOnError}}
    <label for="attendees">Deltakere (én per linje)</label>
    <textarea id="attendees" name="attendees" rows="3" cols="40"{{#attendeesError}} aria-invalid="true" aria-describedby="attendees-feil"{{/attendeesError}}>{{attendees}}</textarea>
    {{#attendeesError}}<p id="attendees-feil" class="feil" role="alert">{{attendeesError}}</p>{{/attendeesError}}
    <p><input type="checkbox" id="minutesWritten" name="minutesWritten" value="true"{{#minutesWritten}} checked{{/minutesWritten}}> <label for="minutesWritten" style="display:inline">Referatet er skrevet</label></p>
    <fieldset><legend>Oppfølgingspunkter (tomme rader tas ikke med)</legend>
    {{#itemError}}<p id="actionItems-feil" class="feil" role="alert">{{itemError}}</p>{{/itemError}}
    {{#rows}}<p><label for="item{{n}}Description">Punkt {{n}}: hva</label><input type="text" id="item{{n}}Description" name="item{{n}}Description" value="{{description}}">
    <label for="item{{n}}Responsible">Punkt {{n}}: hvem</label><input type="text" id="item{{n}}Responsible" name="item{{n}}Responsible" value="{{responsible}}">
    <label for="item{{n}}DueOn">Punkt {{n}}: frist</label><input type="date" id="item{{n}}DueOn" name="item{{n}}DueOn" value="{{dueOn}}"></p>{{/rows}}
    </fieldset>
    <p><button type="submit">Registrer møtet</button></p>
    </form>
    {{/held}}
    {{#hasItems}}
    <h2>Åpne oppfølgingspunkter</h2>
    {{#itemError}}<p class="feil" role="alert">{{itemError}}</p>{{/itemError}}
    <ul>
    {{#items}}<li>{{id}} fra møte {{meeting}}, frist {{due}}
    <form method="post" action="{{base}}/cases/{{stream}}/items/{{id}}/complete" style="display:inline">
    <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Merk {{id}} som fullført">Fullført</button></form></li>
    {{/items}}
    </ul>
    {{/hasItems}}
    {{#deviation}}
    <h2>Meld avvik</h2>
    <p>Et avvik er en hendelse som ikke skulle ha skjedd (for eksempel brudd på taushetsplikten); fristbrudd over regnes ut av seg selv.</p>
    <form method="post" action="{{base}}/cases/{{stream}}/deviations">
    <input type="hidden" name="csrf" value="{{csrf}}">
    <label for="category">Kategori</label>
    <input type="text" id="category" name="category" value="{{category}}" required{{#categoryError}} aria-invalid="true" aria-describedby="category-feil"{{/categoryError}}>
    {{#categoryError}}<p id="category-feil" class="feil" role="alert">{{categoryError}}</p>{{/categoryError}}
    <label for="description">Beskrivelse</label>
    <textarea id="description" name="description" rows="4" cols="60" required{{#descriptionError}} aria-invalid="true" aria-describedby="description-feil"{{/descriptionError}}>{{description}}</textarea>
    {{#descriptionError}}<p id="description-feil" class="feil" role="alert">{{descriptionError}}</p>{{/descriptionError}}
    <p><button type="submit">Meld avviket</button></p>
    </form>
    {{/deviation}}
    {{/forms}}
    <h2 id="historikk">Historikk</h2>
    <p>{{chain}}</p>
    <ol class="tidslinje">
    {{#events}}<li><strong>{{date}} – {{type}}</strong><br>
    Registrert {{recorded}} av {{actor}} (posisjon {{position}}, versjon {{version}}){{^verified}} – <span class="feil">hashkjeden stemmer ikke</span>{{/verified}}
    {{#changed}}<br>Endret: {{changed}}{{/changed}}</li>
    {{/events}}
    </ol>
    """

    static let dashboard = """
    <h1>{{heading}}</h1>
    <p>Fristbrudd er frister som er passert, regnet ut av hendelsene i sakene; meldte avvik står for seg selv. Tallene gjelder {{asOfText}}{{#unitText}}, enhet {{unitText}}{{/unitText}}.</p>
    {{#interactive}}<form method="get" action="{{base}}/reports/deviations">
    <label for="asOf">Dato</label>
    <input type="date" id="asOf" name="asOf" value="{{asOf}}">
    {{#unitChoice}}<label for="unit">Enhet (tom for alle)</label>
    <input type="text" id="unit" name="unit" value="{{unit}}">{{/unitChoice}}
    <p><button type="submit">Vis</button></p>
    </form>{{/interactive}}
    <h2>Åpne fristbrudd etter regel</h2>
    {{{byRuleChart}}}
    <table><caption>Åpne fristbrudd etter regel ({{total}} i alt)</caption>
    <thead><tr><th scope="col">Fristbrudd</th><th scope="col">Hjemmel</th><th scope="col">Antall</th></tr></thead>
    <tbody>{{#byRule}}<tr><td>{{label}}</td><td>{{source}}</td><td>{{value}}</td></tr>{{/byRule}}</tbody></table>
    {{#everyUnit}}<h2>Åpne fristbrudd etter enhet</h2>
    {{{byUnitChart}}}
    <table><caption>Åpne fristbrudd etter enhet</caption>
    <thead><tr><th scope="col">Enhet</th><th scope="col">Antall</th></tr></thead>
    <tbody>{{#byUnit}}<tr><td>{{#interactive}}<a href="{{base}}/reports/deviations?unit={{query}}&amp;asOf={{asOf}}">{{label}}</a>{{/interactive}}{{^interactive}}{{label}}{{/interactive}}</td><td>{{value}}</td></tr>{{/byUnit}}</tbody></table>{{/everyUnit}}
    <h2>Åpne fristbrudd etter koordinator</h2>
    {{{byCoordinatorChart}}}
    <table><caption>Åpne fristbrudd etter koordinator</caption>
    <thead><tr><th scope="col">Koordinator</th><th scope="col">Antall</th></tr></thead>
    <tbody>{{#byCoordinator}}<tr><td>{{label}}</td><td>{{value}}</td></tr>{{/byCoordinator}}</tbody></table>
    <h2>Åpne fristbrudd ved hver månedsslutt</h2>
    {{{trendChart}}}
    <table><caption>Åpne fristbrudd ved månedsslutt, siste {{months}} måneder</caption>
    <thead><tr><th scope="col">Måned</th><th scope="col">Antall</th></tr></thead>
    <tbody>{{#trend}}<tr><td>{{label}}</td><td>{{value}}</td></tr>{{/trend}}</tbody></table>
    <h2>Lukket de siste 30 dagene</h2>
    {{#hasClosed}}<table><caption>Fristbrudd som ble lukket, og hvor lenge de var åpne</caption>
    <thead><tr><th scope="col">Sak</th><th scope="col">Fristbrudd</th><th scope="col">Åpnet</th><th scope="col">Lukket</th><th scope="col">Dager åpne</th></tr></thead>
    <tbody>{{#closed}}<tr><td>{{stream}}</td><td>{{rule}}</td><td>{{since}}</td><td>{{ended}}</td><td>{{days}}</td></tr>{{/closed}}</tbody></table>{{/hasClosed}}
    {{^hasClosed}}<p>Ingen fristbrudd ble lukket de siste 30 dagene.</p>{{/hasClosed}}
    {{#hasWorkload}}<h2>Koordinatorenes arbeidsmengde</h2>
    <table><caption>Aktive saker, møter og fristbrudd per koordinator</caption>
    <thead><tr><th scope="col">Koordinator</th><th scope="col">Enhet</th><th scope="col">Aktive saker</th><th scope="col">Møter siste 90 dager</th><th scope="col">Berammede møter</th><th scope="col">Åpne fristbrudd</th><th scope="col">Opplæring</th></tr></thead>
    <tbody>{{#workload}}<tr><td>{{id}}</td><td>{{unit}}</td><td>{{active}}</td><td>{{held}}</td><td>{{ahead}}</td><td>{{open}}</td><td>{{trained}}</td></tr>{{/workload}}</tbody></table>{{/hasWorkload}}
    """

    static let workload = """
    <h1>Koordinatorenes arbeidsmengde</h1>
    <p>Tallene gjelder {{asOfText}}{{#unitText}}, enhet {{unitText}}{{/unitText}}. Møter teller de som ble holdt de siste 90 dagene og de som er berammet.</p>
    {{#hasUnits}}<table><caption>Per enhet</caption>
    <thead><tr><th scope="col">Enhet</th><th scope="col">Koordinatorer</th><th scope="col">Aktive saker</th><th scope="col">Møter siste 90 dager</th><th scope="col">Åpne fristbrudd</th><th scope="col">Med opplæring</th></tr></thead>
    <tbody>{{#units}}<tr><td>{{unit}}</td><td>{{coordinators}}</td><td>{{active}}</td><td>{{held}}</td><td>{{open}}</td><td>{{trained}}</td></tr>{{/units}}</tbody></table>{{/hasUnits}}
    <table><caption>Per koordinator</caption>
    <thead><tr><th scope="col">Koordinator</th><th scope="col">Enhet</th><th scope="col">Aktive saker</th><th scope="col">Møter siste 90 dager</th><th scope="col">Berammede møter</th><th scope="col">Åpne fristbrudd</th><th scope="col">Opplæring</th></tr></thead>
    <tbody>{{#workload}}<tr><td>{{id}}</td><td>{{unit}}</td><td>{{active}}</td><td>{{held}}</td><td>{{ahead}}</td><td>{{open}}</td><td>{{trained}}</td></tr>{{/workload}}</tbody></table>
    """

    static let message = """
    <h1>{{heading}}</h1>
    <p>{{text}}</p>
    <p><a href="{{base}}/">Til forsiden</a></p>
    """
}
