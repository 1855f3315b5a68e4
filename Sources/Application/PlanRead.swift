import Domain
import EventLog
import JSON

extension Reads {
    /// The individual plan as the person and the responsibility group receive
    /// it, folded from the case's events with their personal values opened.
    public struct PlanDocument: Sendable {
        public struct Goal: Sendable {
            public var id: String
            public var description: String
            /// `short` or `long`.
            public var horizon: String
            public var achievedOn: BusinessDate?
        }
        public struct Measure: Sendable {
            public var id: String
            public var description: String
            public var responsible: String?
        }
        public struct Member: Sendable {
            public var role: String
            public var organisation: String
        }

        public var stream: String
        public var personId: String?
        public var unit: String?
        public var status: CaseStatus?
        public var coordinatorId: String?
        public var coordinatorName: String?
        public var coordinatorUnit: String?
        /// How to reach the coordinating unit (`config.json` `contact`).
        public var contact: String?
        public var establishedOn: BusinessDate?
        public var members: [Member] = []
        public var goals: [Goal] = []
        public var measures: [Measure] = []
        public var nextEvaluationDue: BusinessDate?
        public var lastEvaluation: (on: BusinessDate, summary: String)?
        public var transitions: [(what: String, plannedFor: BusinessDate)] = []
        /// The consent in force, by scope: when it was given.
        public var consent: [(scope: String, since: BusinessDate)] = []
        public var personalDataErased = false
        public var version: UInt64 = 0
    }

    /// The plan of `stream`: read as the case's history is (the same scope),
    /// with the person id in full, recorded in the access log.
    public func plan(_ stream: String, caller: Caller, reason: String?) throws -> PlanDocument {
        let history = try self.history(stream, asOf: nil, caller: caller, reason: reason, showPersonId: true)
        guard StreamKind(stream: stream) == .case else { throw AccessDenied.noCase(stream) }
        var plan = PlanDocument(stream: stream)
        var members: [String: PlanDocument.Member] = [:], memberOrder: [String] = []
        var goals: [String: PlanDocument.Goal] = [:], goalOrder: [String] = []
        var measures: [String: PlanDocument.Measure] = [:], measureOrder: [String] = []
        var state = CaseState()
        func addGoal(_ g: JSONValue) {
            guard let id = g["goalId"]?.stringValue else { return }
            if goals[id] == nil { goalOrder.append(id) }
            goals[id] = .init(id: id, description: g["description"]?.stringValue ?? "", horizon: g["horizon"]?.stringValue ?? "short", achievedOn: nil)
        }
        func addMeasure(_ m: JSONValue) {
            guard let id = m["measureId"]?.stringValue else { return }
            if measures[id] == nil { measureOrder.append(id) }
            measures[id] = .init(id: id, description: m["description"]?.stringValue ?? "", responsible: m["responsible"]?.stringValue)
        }
        plan.personalDataErased = history.personalDataErased
        for entry in history.entries {
            let event = entry.event, data = entry.data
            state.apply(try DomainEvent.decode(event), occurredOn: event.occurredOn, personKey: event.sealed?.slot)
            plan.version = event.version
            switch event.type {
            case "ApplicationReceived": plan.personId = data["personId"]?.stringValue
            case "GroupMemberAdded":
                if let id = data["memberId"]?.stringValue {
                    if members[id] == nil { memberOrder.append(id) }
                    members[id] = .init(role: data["role"]?.stringValue ?? "", organisation: data["organisation"]?.stringValue ?? "")
                }
            case "GroupMemberRemoved":
                if let id = data["memberId"]?.stringValue { members[id] = nil; memberOrder.removeAll { $0 == id } }
            case "PlanEstablished":
                plan.establishedOn = event.occurredOn
                for g in data["goals"]?.arrayValue ?? [] { addGoal(g) }
                for m in data["measures"]?.arrayValue ?? [] { addMeasure(m) }
            case "GoalAdded": addGoal(data)
            case "GoalAchieved":
                if let id = data["goalId"]?.stringValue { goals[id]?.achievedOn = event.occurredOn }
            case "MeasureAdded": addMeasure(data)
            case "PlanEvaluated": plan.lastEvaluation = (event.occurredOn, data["summary"]?.stringValue ?? "")
            case "TransitionPlanned":
                if let what = data["transition"]?.stringValue, let day = data["plannedFor"]?.stringValue.flatMap(BusinessDate.init(iso:)) {
                    plan.transitions.append((what, day))
                }
            default: break
            }
        }
        plan.members = memberOrder.compactMap { members[$0] }
        plan.goals = goalOrder.compactMap { goals[$0] }
        // Who is responsible may be named by a group member's id: shown as the member.
        plan.measures = measureOrder.compactMap { measures[$0] }.map { measure in
            var measure = measure
            if let id = measure.responsible, let member = members[id] { measure.responsible = "\(member.role), \(member.organisation)" }
            return measure
        }
        plan.unit = state.unit
        plan.status = state.status
        plan.nextEvaluationDue = state.nextEvaluationDue
        plan.coordinatorId = state.activeCoordinator
        plan.contact = try ServiceConfig.contact(store: storePath)
        plan.consent = state.consent.map { ($0.key.rawValue, $0.value) }.sorted { $0.0 < $1.0 }
        if let id = state.activeCoordinator {
            // The coordinator's name and unit, as their registration gives them.
            for event in try log.read(stream: "coordinator-" + id) where event.type == "CoordinatorRegistered" {
                let data = try event.payload(keys: log.personKeys)
                plan.coordinatorName = data["name"]?.stringValue
                plan.coordinatorUnit = data["unit"]?.stringValue
            }
        }
        return plan
    }
}
