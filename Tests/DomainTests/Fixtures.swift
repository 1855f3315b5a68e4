import EventLog
import Foundation
import JSON
import SampleData
@testable import Domain

let today = BusinessDate(iso: "2026-11-23")!

func d(_ s: String) -> BusinessDate { BusinessDate(iso: s)! }

/// A generated municipality's events as import items, each checked by the catalogue.
func sampleItems(cases: Int, seed: Int) -> [ImportItem] {
    var items: [ImportItem] = []
    SampleData.generate(.init(cases: cases, seed: seed)) { envelope in
        items.append(ImportItem(line: items.count + 1, event: Result {
            try Catalogue.validate(try Envelope.decode(envelope, today: today, dateField: DomainEvent.dateField))
        }))
    }
    return items
}

/// A fresh store in a temporary directory, removed at the end.
func withStore<R>(_ body: (EventStore) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-domain-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(try EventStore(directory: path, durable: false))
}

/// One valid payload of every event type.
let validPayloads: [String: String] = [
    "ApplicationReceived": #"{"personId":"\#(validID("140385", individualFrom: 0))","receivedOn":"2026-01-05","requested":["individualPlan","coordinator"],"origin":"application","unit":"Hjemmetjenesten"}"#,
    "PreliminaryReplySent": #"{"sentOn":"2026-01-20","expectedDecisionBy":"2026-03-01"}"#,
    "AssessmentCompleted": #"{"completedOn":"2026-01-20","longTermNeed":true,"services":["hjemmesykepleie","fysioterapi"],"residesInMunicipality":true,"wantsIndividualPlan":true}"#,
    "ConsentGiven": #"{"givenOn":"2026-01-20","scope":["individualPlan","coordinator"],"givenBy":"person"}"#,
    "ConsentWithdrawn": #"{"withdrawnOn":"2026-06-01","scope":["individualPlan"]}"#,
    "DecisionMade": #"{"decidedOn":"2026-02-01","individualPlan":"granted","coordinator":"granted","childCoordinator":"notRequested","grounds":"Vilkårene er oppfylt","decidedBy":"caseworker-01"}"#,
    "DecisionSent": #"{"sentOn":"2026-02-02","channel":"digital","appealInformationIncluded":true}"#,
    "AppealReceived": #"{"receivedOn":"2026-02-10","grounds":"Mangelfull kartlegging"}"#,
    "AppealForwarded": #"{"forwardedOn":"2026-02-20"}"#,
    "AppealDecided": #"{"decidedOn":"2026-04-01","decidedBy":"countyGovernor","outcome":"confirmed"}"#,
    "CoordinatorAppointed": #"{"coordinatorId":"0001","appointedOn":"2026-02-10"}"#,
    "CoordinatorReleased": #"{"coordinatorId":"0001","releasedOn":"2026-05-01","reason":"Permisjon"}"#,
    "GroupMemberAdded": #"{"memberId":"g-1","role":"fastlege","organisation":"Legekontoret","addedOn":"2026-02-11"}"#,
    "GroupMemberRemoved": #"{"memberId":"g-1","removedOn":"2026-05-01"}"#,
    "MeetingScheduled": #"{"meetingId":"m-1","scheduledFor":"2026-03-01"}"#,
    "MeetingHeld": #"{"meetingId":"m-1","heldOn":"2026-03-01","attendees":["coordinator-0001","g-1","person"],"minutesWritten":false,"actionItems":[{"itemId":"a-1","description":"Søke om avlastning","responsible":"g-1","dueOn":"2026-04-01"}]}"#,
    "MinutesWritten": #"{"meetingId":"m-1","writtenOn":"2026-03-04"}"#,
    "MeetingCancelled": #"{"meetingId":"m-1","cancelledOn":"2026-02-20","reason":"Sykdom"}"#,
    "ActionItemCompleted": #"{"itemId":"a-1","completedOn":"2026-03-20"}"#,
    "PlanEstablished": #"{"establishedOn":"2026-03-05","goals":[{"goalId":"goal-1","description":"Bo trygt i egen bolig","horizon":"long"}],"measures":[{"measureId":"measure-1","description":"Hjemmesykepleie to ganger daglig","responsible":"g-1"}],"nextEvaluationDue":"2026-09-05"}"#,
    "GoalAdded": #"{"goalId":"goal-2","description":"Gå tur på egen hånd","horizon":"short","addedOn":"2026-04-01"}"#,
    "GoalAchieved": #"{"goalId":"goal-1","achievedOn":"2026-05-01"}"#,
    "MeasureAdded": #"{"measureId":"measure-2","description":"Fysioterapi","addedOn":"2026-04-01"}"#,
    "PlanEvaluated": #"{"evaluatedOn":"2026-09-01","nextEvaluationDue":"2027-03-01","summary":"God fremgang"}"#,
    "TransitionPlanned": #"{"transition":"sykehus til hjem","plannedFor":"2027-01-01"}"#,
    "DeviationReported": #"{"deviationId":"d-1","reportedOn":"2026-04-01","category":"dokumentasjon","description":"Møtereferat ikke skrevet","externalRef":"RM-2026-00042"}"#,
    "DeviationResolved": #"{"deviationId":"d-1","resolvedOn":"2026-04-20","resolution":"Rutinen er gjennomgått"}"#,
    "PlanClosed": #"{"closedOn":"2026-10-01","reason":"needEnded"}"#,
    "CoordinatorRegistered": #"{"coordinatorId":"0001","name":"Kari Nordmann","unit":"Hjemmetjenesten","profession":"sykepleier","registeredOn":"2025-01-02"}"#,
    "CoordinatorTrained": #"{"trainedOn":"2025-01-10","course":"Koordinatoropplæring grunnkurs"}"#,
    "CoordinatorDeactivated": #"{"deactivatedOn":"2026-06-01"}"#,
]

func payload(_ type: String) -> JSONValue { try! JSONParser.parse(validPayloads[type]!) }

func decode(_ type: String, _ json: String? = nil) throws -> DomainEvent {
    try DomainEvent.decode(type: type, payload: json.map { try JSONParser.parse($0) } ?? payload(type)).event
}
