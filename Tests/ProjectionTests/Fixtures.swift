import Deviations
import Domain
import EventLog
import Foundation
import JSON

func d(_ s: String) -> BusinessDate { BusinessDate(iso: s)! }

/// A valid person id born on `ddmmyy` (1900s for individual numbers below 500, 2000s from 500).
func person(_ ddmmyy: String, individual start: Int) -> String {
    let w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2], w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    for n in start..<(start + 100) {
        let text = ddmmyy + String(format: "%03d", n)
        let digits = text.map { Int(String($0))! }
        let k1 = (11 - zip(w1, digits).map(*).reduce(0, +) % 11) % 11
        if k1 == 10 { continue }
        let k2 = (11 - zip(w2, digits + [k1]).map(*).reduce(0, +) % 11) % 11
        if k2 == 10 { continue }
        return text + String(k1) + String(k2)
    }
    fatalError()
}

let adult = person("140385", individual: 100)
let child = person("140309", individual: 600)  // born 2009-03-14: 18 on 2027-03-14

typealias Dated = (DomainEvent, BusinessDate)

/// One event from its type and payload; its business date is its own date (or `on`).
func e(_ type: String, _ json: String, on date: String? = nil) -> Dated {
    let event = try! DomainEvent.decode(type: type, payload: JSONParser.parse(json)).event
    return (event, date.map(d) ?? event.ownDates.first!.date)
}

enum E {
    static func application(_ on: String, person: String = adult) -> Dated {
        e("ApplicationReceived", #"{"personId":"\#(person)","receivedOn":"\#(on)","requested":["individualPlan","coordinator"],"origin":"application","unit":"Hjemmetjenesten"}"#)
    }
    static func reply(_ on: String, expected: String) -> Dated {
        e("PreliminaryReplySent", #"{"sentOn":"\#(on)","expectedDecisionBy":"\#(expected)"}"#)
    }
    static func assessment(_ on: String, need: Bool = true, services: Int = 2) -> Dated {
        let list = ["hjemmesykepleie", "fysioterapi", "NAV"].prefix(services).map { "\"\($0)\"" }.joined(separator: ",")
        return e("AssessmentCompleted", #"{"completedOn":"\#(on)","longTermNeed":\#(need),"services":[\#(list)],"residesInMunicipality":true,"wantsIndividualPlan":true}"#)
    }
    static func consent(_ on: String, _ scope: String = #"["individualPlan","coordinator"]"#) -> Dated {
        e("ConsentGiven", #"{"givenOn":"\#(on)","scope":\#(scope),"givenBy":"person"}"#)
    }
    static func withdraw(_ on: String) -> Dated { e("ConsentWithdrawn", #"{"withdrawnOn":"\#(on)","scope":["individualPlan"]}"#) }
    static func decision(_ on: String, ip: String = "granted", coordinator: String = "granted", child: String = "notRequested") -> Dated {
        e("DecisionMade", #"{"decidedOn":"\#(on)","individualPlan":"\#(ip)","coordinator":"\#(coordinator)","childCoordinator":"\#(child)","grounds":"g","decidedBy":"c"}"#)
    }
    static func letter(_ on: String, informed: Bool = true) -> Dated {
        e("DecisionSent", #"{"sentOn":"\#(on)","channel":"post","appealInformationIncluded":\#(informed)}"#)
    }
    static func appeal(_ on: String) -> Dated { e("AppealReceived", #"{"receivedOn":"\#(on)","grounds":"g"}"#) }
    static func forwarded(_ on: String) -> Dated { e("AppealForwarded", #"{"forwardedOn":"\#(on)"}"#) }
    static func appealDecided(_ on: String, _ outcome: String = "reversed") -> Dated {
        e("AppealDecided", #"{"decidedOn":"\#(on)","decidedBy":"countyGovernor","outcome":"\#(outcome)"}"#)
    }
    static func appoint(_ on: String, _ id: String = "0001") -> Dated { e("CoordinatorAppointed", #"{"coordinatorId":"\#(id)","appointedOn":"\#(on)"}"#) }
    static func release(_ on: String, _ id: String = "0001") -> Dated { e("CoordinatorReleased", #"{"coordinatorId":"\#(id)","releasedOn":"\#(on)","reason":"r"}"#) }
    static func member(_ on: String, _ id: String = "g-1") -> Dated {
        e("GroupMemberAdded", #"{"memberId":"\#(id)","role":"fastlege","organisation":"Legekontoret","addedOn":"\#(on)"}"#)
    }
    static func removeMember(_ on: String, _ id: String = "g-1") -> Dated { e("GroupMemberRemoved", #"{"memberId":"\#(id)","removedOn":"\#(on)"}"#) }
    static func held(_ on: String, _ id: String = "m-1", minutes: Bool = true, items: [(String, String)] = []) -> Dated {
        let list = items.map { #"{"itemId":"\#($0.0)","description":"x","responsible":"g-1","dueOn":"\#($0.1)"}"# }.joined(separator: ",")
        return e("MeetingHeld", #"{"meetingId":"\#(id)","heldOn":"\#(on)","attendees":["coordinator-0001"],"minutesWritten":\#(minutes),"actionItems":[\#(list)]}"#)
    }
    static func minutes(_ on: String, _ id: String = "m-1") -> Dated { e("MinutesWritten", #"{"meetingId":"\#(id)","writtenOn":"\#(on)"}"#) }
    static func completed(_ on: String, _ id: String) -> Dated { e("ActionItemCompleted", #"{"itemId":"\#(id)","completedOn":"\#(on)"}"#) }
    static func plan(_ on: String, due: String? = nil, responsible: Bool = true) -> Dated {
        let measure = responsible ? #"{"measureId":"me-1","description":"x","responsible":"g-1"}"# : #"{"measureId":"me-1","description":"x"}"#
        let next = due.map { #","nextEvaluationDue":"\#($0)""# } ?? ""
        return e("PlanEstablished", #"{"establishedOn":"\#(on)","goals":[{"goalId":"goal-1","description":"x","horizon":"long"}],"measures":[\#(measure)]\#(next)}"#)
    }
    static func evaluated(_ on: String, next: String) -> Dated {
        e("PlanEvaluated", #"{"evaluatedOn":"\#(on)","nextEvaluationDue":"\#(next)","summary":"s"}"#)
    }
    static func transition(on: String) -> Dated { e("TransitionPlanned", #"{"transition":"barn til voksen","plannedFor":"2027-01-01"}"#, on: on) }
    static func reported(_ on: String, _ id: String = "d-1") -> Dated {
        e("DeviationReported", #"{"deviationId":"\#(id)","reportedOn":"\#(on)","category":"c","description":"x"}"#)
    }
    static func resolved(_ on: String, _ id: String = "d-1") -> Dated { e("DeviationResolved", #"{"deviationId":"\#(id)","resolvedOn":"\#(on)","resolution":"r"}"#) }
    static func closed(_ on: String) -> Dated { e("PlanClosed", #"{"closedOn":"\#(on)","reason":"needEnded"}"#) }

    /// Received 2026-01-05, assessed, consent, IP and coordinator granted 2026-02-01, letter sent.
    static let granted = [application("2026-01-05"), assessment("2026-01-20"), consent("2026-01-20"), decision("2026-02-01"), letter("2026-02-02")]
    /// …with coordinator 0001 appointed 2026-02-10 and one group member.
    static let active = granted + [appoint("2026-02-10"), member("2026-02-11")]
}

/// "rule" or "rule/ref" of every deviation open on `date`.
func openOn(_ date: String, _ events: [Dated], config: DeviationConfig = .defaults, trainings: [String: [BusinessDate]] = [:]) -> [DeviationRow] {
    DeviationReport.open(DeviationTracker.fold(events), stream: "case-000001", asOf: d(date), config: config) { trainings[$0] ?? [] }
}
