import EventLog
import JSON

/// One case's history, simulated in date order. Dates are day numbers.
struct CaseSimulation {
    enum Action {
        case consent, appoint, establish, close(String), transition(String), deviation, resolve(String)
        case release(String, only: String?), memberAdd, memberRemove, withdraw, schedule
        case cancel(String, String), hold(String), minutes(String), complete(String)
        case goal, measure, achieve, evaluate
    }

    var rng: SeededRandom
    let coordinators: [Coordinator]
    let byUnit: [String: [Coordinator]]
    let end: Int
    var out: [Emitted] = []
    var agenda: [(day: Int, n: Int, action: Action)] = []
    var n = 0
    var counters: [String: Int] = [:]
    var coordinator: Coordinator?
    var appointedOnce = false
    var members: [String] = []
    var openGoals: [String] = []
    var closed = false
    var consent: Set<String> = []
    var ipGranted = false
    var plan = false
    var unit = ""
    var sent = 0
    var born = 0
    var child = false
    let caseworker: String

    init(rng: SeededRandom, coordinators: [Coordinator], byUnit: [String: [Coordinator]], end: Int) {
        self.rng = rng
        self.coordinators = coordinators
        self.byUnit = byUnit
        self.end = end
        caseworker = "caseworker-" + pad(self.rng.int(1, 12), 2)
    }

    mutating func nextID(_ prefix: String) -> String {
        counters[prefix, default: 0] += 1
        return "\(prefix)-\(counters[prefix]!)"
    }

    var actor: String { coordinator?.stream ?? caseworker }

    mutating func emit(_ day: Int, _ type: String, _ data: JSONValue, actor: String? = nil) {
        out.append(Emitted(day: day, type: type, data: data, actor: actor ?? self.actor))
    }

    mutating func push(_ day: Int, _ action: Action) {
        n += 1
        agenda.append((day, n, action))
    }

    mutating func popAgenda() -> (day: Int, action: Action)? {
        guard let i = agenda.indices.min(by: { (agenda[$0].day, agenda[$0].n) < (agenda[$1].day, agenda[$1].n) }) else { return nil }
        let item = agenda.remove(at: i)
        return (item.day, item.action)
    }

    // MARK: Intake: application, assessment, consent, decision, appeal

    /// Returns the day the granting decision was sent, or nil when nothing was granted.
    mutating func intake(_ opened: Int, usedPersonIDs: inout Set<String>) -> Int? {
        let age = rng.pick([rng.int(1, 17), rng.int(18, 66), rng.int(67, 95)], weights: [30, 45, 25])
        born = opened - age * 365 - rng.int(0, 364)
        child = age < 18
        unit = rng.pick(Vocabulary.units)
        let requested: [String] = child
            ? rng.pick([["individualPlan", "coordinator"], ["individualPlan", "childCoordinator"], ["coordinator"],
                        ["childCoordinator"], ["individualPlan"]], weights: [45, 25, 15, 10, 5])
            : rng.pick([["individualPlan", "coordinator"], ["coordinator"], ["individualPlan"]], weights: [70, 22, 8])
        let personID = makePersonID(&rng, born: BusinessDate(daysSinceEpoch: Int32(born)), dNumber: rng.chance(0.02), used: &usedPersonIDs)
        emit(opened, "ApplicationReceived", .object([
            "personId": .string(personID), "receivedOn": .string(iso(opened)),
            "requested": .array(requested.map(JSONValue.string)),
            "origin": .string(rng.pick(["application", "needReported", "ownInitiative"], weights: [75, 15, 10])),
            "unit": .string(unit),
        ]))
        let delay = rng.pick([rng.int(10, 28), rng.int(29, 55), rng.int(56, 90)], weights: [70, 22, 8])
        let decided = opened + delay
        var day = opened
        if delay > 30, rng.chance(0.85) {
            day = opened + rng.int(14, 30)
            emit(day, "PreliminaryReplySent", .object([
                "sentOn": .string(iso(day)), "expectedDecisionBy": .string(iso(decided + rng.int(0, 14))),
            ]))
        }
        day = max(day, decided - rng.int(1, 10))
        let need = rng.chance(0.93), lives = rng.chance(0.98)
        let wantsIP = requested.contains("individualPlan") && rng.chance(0.97)
        emit(day, "AssessmentCompleted", .object([
            "completedOn": .string(iso(day)), "longTermNeed": .bool(need),
            "services": .array(rng.sample(Vocabulary.services, rng.int(2, 5)).map(JSONValue.string)),
            "residesInMunicipality": .bool(lives), "wantsIndividualPlan": .bool(wantsIP),
        ]))
        let eligible = need && lives && rng.chance(0.97)
        if eligible, rng.chance(0.95) { giveConsent(day, ip: wantsIP) }
        if decide(decided, requested, ip: eligible && wantsIP, coordinator: eligible) { return sent }

        // Denied: sometimes appealed, now and then after the four weeks (the case office checks those).
        if rng.unit() > 0.35 { return nil }
        day = sent + rng.pick([rng.int(5, 26), rng.int(29, 45)], weights: [92, 8])
        emit(day, "AppealReceived", .object(["receivedOn": .string(iso(day)), "grounds": .string(rng.pick(Vocabulary.appealGrounds))]))
        let outcome: String
        if rng.chance(0.3) {
            day += rng.int(7, 21)
            outcome = "reversed"
            emit(day, "AppealDecided", .object(["decidedOn": .string(iso(day)), "decidedBy": "municipality", "outcome": .string(outcome)]))
        } else {
            day += rng.pick([rng.int(7, 27), rng.int(29, 50)], weights: [85, 15])
            emit(day, "AppealForwarded", .object(["forwardedOn": .string(iso(day))]))
            day += rng.int(30, 120)
            outcome = rng.pick(["confirmed", "reversed", "partlyReversed"], weights: [70, 20, 10])
            emit(day, "AppealDecided", .object(["decidedOn": .string(iso(day)), "decidedBy": "countyGovernor", "outcome": .string(outcome)]))
        }
        if outcome == "confirmed" { return nil }
        // The reversal reopens the case and a new decision follows; a partial
        // reversal grants the coordinator only.
        day += rng.int(3, 14)
        let full = outcome == "reversed" && wantsIP
        if consent.isEmpty { giveConsent(day, ip: full) }
        _ = decide(day, requested, ip: full, coordinator: true)
        return sent
    }

    mutating func giveConsent(_ day: Int, ip: Bool) {
        let scope = ip ? ["individualPlan", "coordinator", "informationSharing"] : ["coordinator", "informationSharing"]
        let by = child ? (rng.chance(0.85) ? "parent" : "guardian")
            : rng.pick(["person", "representative", "guardian"], weights: [93, 5, 2])
        emit(day, "ConsentGiven", .object([
            "givenOn": .string(iso(day)), "scope": .array(scope.map(JSONValue.string)), "givenBy": .string(by),
        ]))
        consent.formUnion(scope)
    }

    /// DecisionMade and DecisionSent; true when anything was granted. A
    /// coordinator (or child coordinator) is offered with every granted IP and to
    /// every eligible person, whether asked for or not (hol § 7-2).
    mutating func decide(_ day: Int, _ requested: [String], ip: Bool, coordinator wantsCoordinator: Bool) -> Bool {
        let childCoordinator = wantsCoordinator && requested.contains("childCoordinator")
        let coordinator = wantsCoordinator && !childCoordinator
        func verdict(_ service: String, _ granted: Bool) -> JSONValue {
            .string(granted ? "granted" : (requested.contains(service) ? "denied" : "notRequested"))
        }
        let granted = ip || coordinator || childCoordinator
        emit(day, "DecisionMade", .object([
            "decidedOn": .string(iso(day)), "individualPlan": verdict("individualPlan", ip),
            "coordinator": verdict("coordinator", coordinator),
            "childCoordinator": verdict("childCoordinator", childCoordinator),
            "grounds": .string(granted ? "Vilkårene i helse- og omsorgstjenesteloven § 7-1 er oppfylt"
                                       : "Behovet er ikke langvarig og koordinert"),
            "decidedBy": .string(caseworker),
        ]))
        sent = day + rng.int(0, 5)
        let informed = rng.chance(0.97)
        emit(sent, "DecisionSent", .object([
            "sentOn": .string(iso(sent)), "channel": .string(rng.chance(0.8) ? "digital" : "post"),
            "appealInformationIncluded": .bool(informed),
        ]))
        if !informed, rng.chance(0.9) {  // a corrected letter
            sent += rng.int(3, 20)
            emit(sent, "DecisionSent", .object(["sentOn": .string(iso(sent)), "channel": "post", "appealInformationIncluded": .bool(true)]))
        }
        ipGranted = ip
        return granted
    }

    // MARK: The active case: an agenda of dated actions, run in date order

    mutating func active(_ sent: Int) {
        push(sent + rng.pick([rng.int(2, 13), rng.int(15, 40)], weights: [85, 15]), .appoint)
        if consent.isEmpty {
            push(sent + rng.int(1, 30), .consent)
        } else if ipGranted {
            push(sent + planDelay(), .establish)
        }
        let span = rng.pick([rng.int(90, 400), rng.int(400, 900), rng.int(900, 2400)], weights: [35, 35, 30])
        push(sent + span, .close(rng.pick(["needEnded", "personRequested", "movedAway", "deceased", "other"], weights: [50, 20, 15, 8, 7])))
        if child {  // plan the move to adult services (turning 18)
            let due = addYears(born, 18) - 182
            if rng.chance(0.85) { push(max(sent, due - rng.int(0, 120)), .transition("barn til voksen")) }
        }
        if rng.chance(0.10) { push(sent + rng.int(60, 700), .transition(rng.pick(Vocabulary.transitions))) }
        for _ in 0..<rng.pick([0, 1, 2], weights: [90, 8, 2]) { push(sent + rng.int(30, 800), .deviation) }
        if rng.chance(0.08) { push(sent + rng.int(90, 700), .release(rng.pick(Vocabulary.releaseReasons), only: nil)) }
        if rng.chance(0.10) { push(sent + rng.int(120, 700), .memberRemove) }
        if ipGranted, rng.chance(0.03) { push(sent + rng.int(100, 700), .withdraw) }
        while let (day, action) = popAgenda() {
            if day > end { break }
            if closed {
                switch action {
                case .deviation, .resolve: break
                default: continue
                }
            }
            run(action, on: day)
        }
    }

    mutating func planDelay() -> Int { rng.pick([rng.int(14, 50), rng.int(57, 100)], weights: [85, 15]) }

    mutating func run(_ action: Action, on day: Int) {
        switch action {
        case .consent:
            giveConsent(day, ip: ipGranted)
            if ipGranted { push(day + planDelay(), .establish) }
        case .appoint: appoint(day)
        case .establish: establish(day)
        case .close(let reason):
            closed = true
            emit(day, "PlanClosed", .object(["closedOn": .string(iso(day)), "reason": .string(reason)]))
        case .transition(let transition):
            emit(day, "TransitionPlanned", .object(["transition": .string(transition), "plannedFor": .string(iso(day + rng.int(60, 300)))]))
        case .deviation:
            let (category, description) = rng.pick(Vocabulary.deviations)
            let id = nextID("d")
            let year = BusinessDate(daysSinceEpoch: Int32(day)).parts.year
            emit(day, "DeviationReported", .object([
                "deviationId": .string(id), "reportedOn": .string(iso(day)), "category": .string(category),
                "description": .string(description), "externalRef": .string("RM-\(year)-\(pad(rng.int(1, 99999), 5))"),
            ]))
            if rng.chance(0.8) { push(day + rng.int(7, 90), .resolve(id)) }
        case .resolve(let id):
            emit(day, "DeviationResolved", .object(["deviationId": .string(id), "resolvedOn": .string(iso(day)), "resolution": "Rutinen er gjennomgått med enheten"]))
        case .release(let reason, let only): release(day, reason, only: only)
        case .memberAdd:
            let (role, organisation) = rng.pick(Vocabulary.members)
            let member = nextID("g")
            members.append(member)
            emit(day, "GroupMemberAdded", .object(["memberId": .string(member), "role": .string(role), "organisation": .string(organisation), "addedOn": .string(iso(day))]))
        case .memberRemove:
            if members.count > 1 {
                let member = members.remove(at: rng.int(0, members.count - 1))
                emit(day, "GroupMemberRemoved", .object(["memberId": .string(member), "removedOn": .string(iso(day))]))
                push(day + rng.int(0, 30), .memberAdd)
            }
        case .withdraw:
            if consent.contains("individualPlan") {
                consent.remove("individualPlan")
                emit(day, "ConsentWithdrawn", .object(["withdrawnOn": .string(iso(day)), "scope": ["individualPlan"]]))
                push(day + rng.int(7, 40), .close("consentWithdrawn"))
            }
        case .schedule: schedule(day)
        case .cancel(let meeting, let reason): cancel(day, meeting, reason)
        case .hold(let meeting): hold(day, meeting)
        case .minutes(let meeting):
            emit(day, "MinutesWritten", .object(["meetingId": .string(meeting), "writtenOn": .string(iso(day))]))
        case .complete(let item):
            emit(day, "ActionItemCompleted", .object(["itemId": .string(item), "completedOn": .string(iso(day))]))
        case .goal:
            if plan, consent.contains("individualPlan") {
                var goal = newGoal()
                goal.append(.init("addedOn", .string(iso(day))))
                emit(day, "GoalAdded", .object(goal))
            }
        case .measure:
            if plan, consent.contains("individualPlan"), coordinator != nil {
                var measure = newMeasure()
                measure.append(.init("addedOn", .string(iso(day))))
                emit(day, "MeasureAdded", .object(measure))
            }
        case .achieve:
            if plan, consent.contains("individualPlan"), !openGoals.isEmpty {
                let goal = openGoals.remove(at: rng.int(0, openGoals.count - 1))
                emit(day, "GoalAchieved", .object(["goalId": .string(goal), "achievedOn": .string(iso(day))]))
            }
        case .evaluate:
            if plan, consent.contains("individualPlan") {
                let due = evaluationDue(day)
                emit(day, "PlanEvaluated", .object(["evaluatedOn": .string(iso(day)), "nextEvaluationDue": .string(iso(due)), "summary": .string(rng.pick(Vocabulary.summaries))]))
            }
        }
    }

    mutating func appoint(_ day: Int) {
        if coordinator != nil { return }
        if consent.isDisjoint(with: ["coordinator", "individualPlan"]) {
            push(day + 7, .appoint)  // waits for consent
            return
        }
        var choice = rng.pick(rng.chance(0.7) ? byUnit[unit]! : coordinators)
        if !choice.available(on: day) {
            let pool = coordinators.filter { $0.available(on: day) }
            if pool.isEmpty { return }  // nobody can be appointed (very few coordinators)
            choice = rng.pick(pool)
        }
        coordinator = choice
        emit(day, "CoordinatorAppointed", .object(["coordinatorId": .string(choice.id), "appointedOn": .string(iso(day))]), actor: caseworker)
        if let leaves = choice.deactivated {
            push(leaves - rng.int(1, 14), .release("Koordinator har sluttet", only: choice.id))
        }
        if !appointedOnce {
            appointedOnce = true
            for _ in 0..<rng.int(2, 5) { push(day + rng.int(0, 20), .memberAdd) }
            push(day + rng.int(7, 30), .schedule)
        }
    }

    mutating func release(_ day: Int, _ reason: String, only: String?) {
        guard let current = coordinator, only == nil || only == current.id else { return }
        emit(day, "CoordinatorReleased", .object(["coordinatorId": .string(current.id), "releasedOn": .string(iso(day)), "reason": .string(reason)]))
        coordinator = nil
        push(day + rng.pick([rng.int(1, 13), rng.int(15, 45)], weights: [80, 20]), .appoint)
    }

    mutating func schedule(_ day: Int) {
        guard coordinator != nil else {
            push(day + 7, .schedule)
            return
        }
        let meeting = nextID("m"), when = day + rng.int(7, 21)
        emit(day, "MeetingScheduled", .object(["meetingId": .string(meeting), "scheduledFor": .string(iso(when))]))
        if rng.chance(0.07) {
            push(rng.int(day + 1, when), .cancel(meeting, rng.pick(Vocabulary.cancelReasons)))
        } else {
            push(when, .hold(meeting))
        }
    }

    mutating func cancel(_ day: Int, _ meeting: String, _ reason: String) {
        emit(day, "MeetingCancelled", .object(["meetingId": .string(meeting), "cancelledOn": .string(iso(day)), "reason": .string(reason)]))
        push(day + rng.int(3, 14), .schedule)
    }

    mutating func hold(_ day: Int, _ meeting: String) {
        guard let current = coordinator else {
            cancel(day, meeting, "Ingen aktiv koordinator")
            return
        }
        let responsible = [current.stream] + rng.sample(members, rng.int(min(1, members.count), members.count))
        let attendees = rng.chance(0.8) ? responsible + ["person"] : responsible
        var items: [JSONValue] = []
        for _ in 0..<rng.pick([0, 1, 2, 3, 4, 5], weights: [5, 10, 25, 25, 20, 15]) {
            let item = nextID("a"), due = day + rng.int(14, 90)
            items.append(.object([
                "itemId": .string(item), "description": .string(rng.pick(Vocabulary.actions)),
                "responsible": .string(rng.pick(responsible)), "dueOn": .string(iso(due)),
            ]))
            if rng.chance(0.95) { push(day + rng.int(3, due - day + 20), .complete(item)) }
        }
        let minutes = rng.chance(0.93)
        emit(day, "MeetingHeld", .object([
            "meetingId": .string(meeting), "heldOn": .string(iso(day)),
            "attendees": .array(attendees.map(JSONValue.string)), "minutesWritten": .bool(minutes),
            "actionItems": .array(items),
        ]))
        if !minutes, rng.chance(0.9) {
            push(day + rng.pick([rng.int(1, 7), rng.int(8, 30)], weights: [80, 20]), .minutes(meeting))
        }
        let gap = rng.pick([rng.int(22, 58), rng.int(190, 260)], weights: [96, 4])
        push(day + gap - 14, .schedule)
        if plan, consent.contains("individualPlan") {
            if rng.chance(0.15) { push(day + rng.int(0, 7), .goal) }
            if rng.chance(0.10) { push(day + rng.int(0, 7), .measure) }
            if !openGoals.isEmpty, rng.chance(0.12) { push(day + rng.int(0, 30), .achieve) }
        }
    }

    mutating func newGoal() -> [JSONValue.Member] {
        let goal = nextID("goal")
        openGoals.append(goal)
        return [.init("goalId", .string(goal)), .init("description", .string(rng.pick(Vocabulary.goals))),
                .init("horizon", .string(rng.chance(0.6) ? "short" : "long"))]
    }

    mutating func newMeasure() -> [JSONValue.Member] {
        var measure: [JSONValue.Member] = [.init("measureId", .string(nextID("measure"))), .init("description", .string(rng.pick(Vocabulary.actions)))]
        if rng.chance(0.9) {
            measure.append(.init("responsible", .string(rng.pick(members.isEmpty ? [coordinator!.stream] : members))))
        }
        return measure
    }

    mutating func evaluationDue(_ day: Int) -> Int {
        let due = day + rng.pick([180, 180, 365])
        let late = rng.pick([-rng.int(0, 20), rng.int(10, 60)], weights: [85, 15])
        push(due + late, .evaluate)
        return due
    }

    mutating func establish(_ day: Int) {
        if plan || !consent.contains("individualPlan") { return }
        guard coordinator != nil else {  // the coordinator leads the plan
            push(day + 7, .establish)
            return
        }
        plan = true
        var data: [JSONValue.Member] = [
            .init("establishedOn", .string(iso(day))),
            .init("goals", .array((0..<rng.int(2, 4)).map { _ in .object(newGoal()) })),
            .init("measures", .array((0..<rng.int(1, 3)).map { _ in .object(newMeasure()) })),
        ]
        if rng.chance(0.92) {
            data.append(.init("nextEvaluationDue", .string(iso(evaluationDue(day)))))
        } else {  // incomplete: evaluated later
            push(day + rng.int(150, 200), .evaluate)
        }
        emit(day, "PlanEstablished", .object(data))
    }
}
