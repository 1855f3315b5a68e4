/// Norwegian words for the sample data: units, services, goals, measures.
enum Vocabulary {
    static let units = ["Hjemmetjenesten", "Psykisk helse og rus", "Barn og familie",
                        "Helsestasjon og skolehelsetjenesten", "Tjenester for funksjonshemmede",
                        "Rehabilitering", "Helse og omsorg sone nord", "Helse og omsorg sone sør"]
    static let services = ["hjemmesykepleie", "praktisk bistand", "brukerstyrt personlig assistanse",
                           "avlastning", "støttekontakt", "fysioterapi", "ergoterapi",
                           "psykisk helsetjeneste", "rusomsorg", "helsestasjon", "PPT",
                           "spesialundervisning", "BUP", "DPS", "NAV", "fastlege", "omsorgsstønad",
                           "dagaktivitetstilbud", "habilitering", "logoped"]
    static let professions = ["sykepleier", "vernepleier", "sosionom", "ergoterapeut", "fysioterapeut",
                              "barnevernspedagog", "helsesykepleier", "spesialpedagog", "miljøterapeut"]
    static let firstNames = ["Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid",
                             "Hilde", "Nina", "Ida", "Nora", "Silje", "Tone", "Jan", "Per", "Bjørn", "Ole",
                             "Lars", "Kjell", "Knut", "Arne", "Svein", "Geir", "Morten", "Jonas", "Emil"]
    static let lastNames = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
                            "Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Dahl",
                            "Jørgensen", "Halvorsen", "Lund", "Strand", "Moen", "Solberg", "Bakken", "Aasen"]
    static let courses = ["Koordinatoropplæring grunnkurs", "Individuell plan og koordinator (e-læring)",
                          "Koordinatornettverk fordypning"]
    static let members = [("fastlege", "Legekontoret"), ("helsesykepleier", "Helsestasjonen"),
                          ("kontaktlærer", "Grunnskolen"), ("fysioterapeut", "Fysio- og ergoterapitjenesten"),
                          ("ergoterapeut", "Fysio- og ergoterapitjenesten"), ("NAV-veileder", "NAV"),
                          ("psykiatrisk sykepleier", "Psykisk helse og rus"), ("behandler", "BUP"),
                          ("behandler", "DPS"), ("miljøterapeut", "Bo- og avlastningstjenesten"),
                          ("rådgiver", "PPT"), ("pårørende", "Familien"),
                          ("hjemmesykepleier", "Hjemmetjenesten"), ("pedagogisk leder", "Barnehagen")]
    static let actions = ["Søke om hjelpemidler", "Kontakte NAV om arbeidsavklaring", "Oppdatere tiltaksplanen",
                          "Henvise til fysioterapeut", "Avtale møte med skolen", "Søke om avlastning",
                          "Innhente epikrise fra sykehuset", "Følge opp legetime", "Kartlegge boligbehov",
                          "Avklare transport", "Sende referat til ansvarsgruppen", "Søke om støttekontakt",
                          "Utarbeide kriseplan", "Avklare økonomisk rådgivning"]
    static let goals = ["Bo trygt i egen bolig", "Fullføre videregående skole", "Delta i arbeidsrettet aktivitet",
                        "Mestre hverdagen med mindre hjelp", "Delta i en fritidsaktivitet hver uke",
                        "Bedre søvn og døgnrytme", "Færre sykehusinnleggelser", "Gå tur på egen hånd",
                        "Godt samarbeid mellom hjem og skole", "Komme i jobb", "Styrke sosialt nettverk",
                        "Mestre egen medisinering", "Trygg overgang til voksenlivet"]
    static let summaries = ["Målene er delvis nådd; tiltakene videreføres", "God fremgang, nye delmål satt",
                            "Behovene er endret; planen er justert", "Tiltakene fungerer, ingen endring",
                            "Mål nådd; nytt langsiktig mål lagt til"]
    static let transitions = ["barnehage til skole", "barneskole til ungdomsskole",
                              "ungdomsskole til videregående", "videregående til arbeid", "barn til voksen",
                              "hjem til institusjon", "sykehus til hjem", "institusjon til egen bolig"]
    static let deviations = [("koordinator", "Koordinator ikke oppnevnt innen fristen"),
                             ("individuellPlan", "Individuell plan ikke utarbeidet innen fristen"),
                             ("taushetsplikt", "Opplysninger delt uten samtykke"),
                             ("dokumentasjon", "Møtereferat ikke skrevet"),
                             ("samhandling", "Manglende oppfølging etter utskrivning"),
                             ("saksbehandlingstid", "Foreløpig svar ikke sendt")]
    static let cancelReasons = ["Sykdom", "Koordinator forhindret", "Bruker ønsket utsettelse", "For få deltakere"]
    static let releaseReasons = ["Permisjon", "Brukers ønske om ny koordinator", "Omorganisering"]
    static let appealGrounds = ["Behovet er langvarig og koordinert", "Mangelfull kartlegging", "Saksbehandlingsfeil"]
}
