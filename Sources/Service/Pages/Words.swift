import Application
import Deviations
import Domain
import EventLog

/// The pages' words in bokmål. The report's rows are *fristbrudd* (deadlines
/// passed); *avvik* are only what someone reported (DeviationReported).
enum Words {
    static func rule(_ rule: DeviationRule) -> String {
        switch rule {
        case .preliminaryReplyMissing: "Foreløpig svar ikke sendt"
        case .decisionOverdue: "Vedtak ikke fattet innen fristen"
        case .appealInformationMissing: "Vedtak sendt uten klageopplysninger"
        case .appealOverdue: "Klage ikke behandlet innen fristen"
        case .coordinatorNotOffered: "Koordinator ikke tilbudt"
        case .coordinatorNotAppointed: "Koordinator ikke oppnevnt"
        case .coordinatorMissing: "Saken står uten koordinator"
        case .coordinatorUntrained: "Koordinator uten opplæring"
        case .planNotEstablished: "Individuell plan ikke etablert"
        case .planIncomplete: "Planen mangler neste evaluering"
        case .meetingOverdue: "Ansvarsgruppemøte ikke holdt"
        case .minutesMissing: "Referat mangler"
        case .actionItemOverdue: "Oppfølgingspunkt over frist"
        case .evaluationOverdue: "Evaluering over frist"
        case .transitionNotPlanned: "Overgang ikke planlagt"
        case .planWorkWithoutConsent: "Planarbeid uten samtykke"
        case .reportedDeviation: "Meldt avvik"
        }
    }

    /// Where a rule's period comes from: the law, or the municipality's own standard.
    static func source(_ rule: DeviationRule) -> String {
        switch rule {
        case .preliminaryReplyMissing: "fvl. § 11 a"
        case .appealInformationMissing: "fvl. § 27"
        case .appealOverdue: "pbrl. § 7-5, kommunens standard"
        case .planWorkWithoutConsent: "pbrl. § 7-2, samtykke"
        case .reportedDeviation: "meldt av en ansatt"
        default: "kommunens standard (config.json)"
        }
    }

    static func status(_ status: CaseStatus?) -> String {
        switch status {
        case .received?: "Mottatt"
        case .assessed?: "Kartlagt"
        case .decided?: "Vedtak fattet"
        case .active?: "Aktiv"
        case .closed?: "Avsluttet"
        case .denied?: "Avslått"
        case nil: "Ukjent"
        }
    }

    static func role(_ role: Role?) -> String {
        switch role {
        case .caseOffice?: "Forvaltningskontoret"
        case .coordinatingUnit?: "Koordinerende enhet"
        case .coordinator?: "Koordinator"
        case .unitManager?: "Enhetsleder"
        case .auditor?: "Revisor"
        case .integration?: "Fagsystem"
        case nil: "Driftsansvarlig"
        }
    }

    static let eventTypes: [String: String] = [
        "ApplicationReceived": "Søknad mottatt", "PreliminaryReplySent": "Foreløpig svar sendt",
        "AssessmentCompleted": "Kartlegging fullført", "ConsentGiven": "Samtykke gitt", "ConsentWithdrawn": "Samtykke trukket",
        "DecisionMade": "Vedtak fattet", "DecisionSent": "Vedtak sendt", "AppealReceived": "Klage mottatt",
        "AppealForwarded": "Klage oversendt", "AppealDecided": "Klage avgjort", "CoordinatorAppointed": "Koordinator oppnevnt",
        "CoordinatorReleased": "Koordinator fritatt", "GroupMemberAdded": "Medlem lagt til i ansvarsgruppen",
        "GroupMemberRemoved": "Medlem fjernet fra ansvarsgruppen", "MeetingScheduled": "Møte berammet", "MeetingHeld": "Møte holdt",
        "MinutesWritten": "Referat skrevet", "MeetingCancelled": "Møte avlyst", "ActionItemCompleted": "Oppfølgingspunkt fullført",
        "PlanEstablished": "Plan etablert", "GoalAdded": "Mål lagt til", "GoalAchieved": "Mål nådd", "MeasureAdded": "Tiltak lagt til",
        "PlanEvaluated": "Plan evaluert", "TransitionPlanned": "Overgang planlagt", "DeviationReported": "Avvik meldt",
        "DeviationResolved": "Avvik lukket", "PlanClosed": "Plan avsluttet", "CoordinatorRegistered": "Koordinator registrert",
        "CoordinatorTrained": "Koordinator fikk opplæring", "CoordinatorDeactivated": "Koordinator deaktivert",
    ]

    static func eventType(_ type: String) -> String { eventTypes[type] ?? type }

    static func due(_ what: DeviationQuery.DueItem.What) -> String {
        switch what {
        case .meetingScheduled: "Berammet møte"
        case .meeting: "Frist for ansvarsgruppemøte"
        case .evaluation: "Frist for evaluering"
        case .actionItem: "Frist for oppfølgingspunkt"
        case .minutes: "Frist for referat"
        }
    }

    /// 2026-03-14 as 14.03.2026.
    static func date(_ date: BusinessDate) -> String {
        let (y, m, d) = date.parts
        return String(format: "%02d.%02d.%04d", d, m, y)
    }
}
