import EventLog

/// Everything the rules and the audit replay need to know about one case: a
/// pure fold over the case's events (`events.reduce(CaseState(), apply)`).
///
/// Stored (``CompactCodable``) in snapshots and read models, which are derived
/// data: a snapshot of another ``CaseState/snapshotFormat`` is discarded and the
/// state refolded from the log.
public struct CaseState: Hashable, Sendable {
    /// Raised whenever a stored field or the snapshot encoding changes
    /// (2: the binary coder instead of JSON; 3: no person id, the person's key
    /// slot; 4: the compact form, ``CompactCodable``; 5: an appeal keeps the
    /// `sentOn` of the decision it answers).
    public static let snapshotFormat = 5

    public struct Appointment: Hashable, Sendable {
        public var coordinatorId: String
        public var appointedOn: BusinessDate
        public var releasedOn: BusinessDate?
    }

    public struct Meeting: Hashable, Sendable {
        public var scheduledFor: BusinessDate?
        public var heldOn: BusinessDate?
        public var cancelledOn: BusinessDate?
        public var minutesWritten = false
        public var minutesWrittenOn: BusinessDate?
    }

    public struct Item: Hashable, Sendable {
        public var meetingId: String
        public var dueOn: BusinessDate
        public var completedOn: BusinessDate?
    }

    public struct PlanGoal: Hashable, Sendable {
        public var horizon: Horizon
        public var achievedOn: BusinessDate?
    }

    public struct Appeal: Hashable, Sendable {
        public var receivedOn: BusinessDate
        public var forwardedOn: BusinessDate?
        public var decidedOn: BusinessDate?
        public var outcome: AppealOutcome?
        /// The `sentOn` of the last `DecisionSent` before the appeal (nil: no
        /// decision was sent, so no appeal deadline ran).
        public var decisionSentOn: BusinessDate?

        /// The person's appeal period (pbrl §7-5, fvl §29): four weeks, 28 days.
        public static let periodDays = 28

        /// Days from the decision's sending to the appeal's receipt (nil with no decision sent).
        public var daysSinceDecisionSent: Int? { decisionSentOn.map { $0.days(until: receivedOn) } }

        /// Received more than four weeks after the decision was sent: the 28th
        /// day is in time, the 29th late. The flag decides nothing: the weeks
        /// run from when the person learnt of the decision, an appeal posted in
        /// time is in time (fvl §30), and a late one may still be heard (fvl
        /// §31); it tells the case office to check.
        public var late: Bool { (daysSinceDecisionSent ?? 0) > Self.periodDays }
    }

    public struct Deviation: Hashable, Sendable {
        public var reportedOn: BusinessDate
        public var category: String
        public var resolvedOn: BusinessDate?
    }

    /// Nil until the case is opened.
    public var status: CaseStatus?
    /// The key slot the case's personal values are sealed under (the person's
    /// key; ``PersonKeys``). The state holds no personal value itself: not the
    /// person id, and free text it keeps (grounds, who is responsible, the
    /// transition) reads as "", whether the event folded was sealed or not.
    public var personKey: UInt32?
    public var receivedOn: BusinessDate?
    public var requested: [Service] = []
    public var origin: Origin?
    public var unit: String?
    public var preliminaryReplies: [BusinessDate] = []
    /// The latest `expectedDecisionBy` of a preliminary reply.
    public var expectedDecisionBy: BusinessDate?
    public var assessment: AssessmentCompleted?
    /// Consent in force: each scope with the date it was (last) given.
    public var consent: [ConsentScope: BusinessDate] = [:]
    public var decisions: [DecisionMade] = []
    public var lettersSent: [DecisionSent] = []
    public var appeals: [Appeal] = []
    public var appointments: [Appointment] = []
    /// Current members of the responsibility group, by id, with their role.
    public var members: [String: String] = [:]
    /// Every member id ever added (ids are not reused).
    public var memberIDs: Set<String> = []
    public var meetings: [String: Meeting] = [:]
    public var items: [String: Item] = [:]
    public var planEstablishedOn: BusinessDate?
    public var goals: [String: PlanGoal] = [:]
    /// Measures by id: "" when someone is named responsible (who is personal
    /// data, sealed), nil when nobody is.
    public var measures: [String: String?] = [:]
    public var nextEvaluationDue: BusinessDate?
    public var evaluations: [BusinessDate] = []
    public var transitions: [TransitionPlanned] = []
    public var deviations: [String: Deviation] = [:]
    public var closed: PlanClosed?
    public var lastEventOn: BusinessDate?

    public init() {}

    // MARK: Derived facts

    /// The active coordinator's id.
    /// (Read in place: `appointments.last` would copy the appointment, and the
    /// rules ask this for every event.)
    public var activeCoordinator: String? {
        guard !appointments.isEmpty, appointments[appointments.endIndex - 1].releasedOn == nil else { return nil }
        return appointments[appointments.endIndex - 1].coordinatorId
    }

    public var latestDecision: DecisionMade? { decisions.last }

    /// The latest decision granted an individual plan (read in place, as above).
    public var individualPlanGranted: Bool { !decisions.isEmpty && decisions[decisions.endIndex - 1].individualPlan == .granted }

    /// The latest decision granted a coordinator, a child coordinator or an IP.
    public var coordinatorGranted: Bool { latestDecision?.grantsCoordinator ?? false }

    public func consentInForce(_ scope: ConsentScope) -> Bool { consent[scope] != nil }

    /// The case's status names an open case (not closed, not denied).
    public var isOpen: Bool { status?.isOpen ?? false }

    // MARK: The fold

    /// The state after `event`, dated `occurredOn`.
    public func applying(_ event: DomainEvent, occurredOn: BusinessDate, personKey: UInt32? = nil) -> CaseState {
        var s = self
        s.apply(event, occurredOn: occurredOn, personKey: personKey)
        return s
    }

    /// Folds one event into the state (the status table of docs/RULES.md for `status`).
    /// - Parameter personKey: the key slot the event's personal values are
    ///   sealed under, when they are.
    public mutating func apply(_ event: DomainEvent, occurredOn: BusinessDate, personKey: UInt32? = nil) {
        lastEventOn = occurredOn
        if let personKey { self.personKey = personKey }
        switch event {
        case .applicationReceived(let e):
            status = .received
            receivedOn = e.receivedOn
            requested = e.requested
            origin = e.origin
            unit = e.unit
        case .preliminaryReplySent(let e):
            preliminaryReplies.append(e.sentOn)
            expectedDecisionBy = max(expectedDecisionBy ?? e.expectedDecisionBy, e.expectedDecisionBy)
        case .assessmentCompleted(let e):
            assessment = e
            if status == .received { status = .assessed }
        case .consentGiven(let e):
            for scope in e.scope { consent[scope] = e.givenOn }
        case .consentWithdrawn(let e):
            for scope in e.scope { consent[scope] = nil }
        case .decisionMade(let e):
            var decision = e
            decision.grounds = ""
            decisions.append(decision)
            if e.grantsAnything {
                if status != .active { status = .decided }
            } else if e.deniesAnything {
                status = .denied
            }
        case .decisionSent(let e):
            lettersSent.append(e)
        case .appealReceived(let e):
            appeals.append(Appeal(receivedOn: e.receivedOn, decisionSentOn: lettersSent.last?.sentOn))
        case .appealForwarded(let e):
            if let i = appeals.lastIndex(where: { $0.decidedOn == nil }) { appeals[i].forwardedOn = e.forwardedOn }
        case .appealDecided(let e):
            if let i = appeals.lastIndex(where: { $0.decidedOn == nil }) {
                appeals[i].decidedOn = e.decidedOn
                appeals[i].outcome = e.outcome
            }
            if e.outcome.reopensDenial, status == .denied { status = .assessed }
        case .coordinatorAppointed(let e):
            appointments.append(Appointment(coordinatorId: e.coordinatorId, appointedOn: e.appointedOn))
            status = .active
        case .coordinatorReleased(let e):
            if let i = appointments.lastIndex(where: { $0.coordinatorId == e.coordinatorId && $0.releasedOn == nil }) {
                appointments[i].releasedOn = e.releasedOn
            }
        case .groupMemberAdded(let e):
            members[e.memberId] = e.role
            memberIDs.insert(e.memberId)
        case .groupMemberRemoved(let e):
            members[e.memberId] = nil
        case .meetingScheduled(let e):
            meetings[e.meetingId, default: Meeting()].scheduledFor = e.scheduledFor
        case .meetingHeld(let e):
            Self.change(&meetings[e.meetingId, default: Meeting()]) { meeting in  // one look-up
                meeting.heldOn = e.heldOn
                meeting.minutesWritten = e.minutesWritten
                if e.minutesWritten { meeting.minutesWrittenOn = e.heldOn }
            }
            for item in e.actionItems {
                items[item.itemId] = Item(meetingId: e.meetingId, dueOn: item.dueOn)
            }
        case .minutesWritten(let e):
            meetings[e.meetingId]?.minutesWritten = true
            meetings[e.meetingId]?.minutesWrittenOn = e.writtenOn
        case .meetingCancelled(let e):
            meetings[e.meetingId]?.cancelledOn = e.cancelledOn
        case .actionItemCompleted(let e):
            items[e.itemId]?.completedOn = e.completedOn
        case .planEstablished(let e):
            planEstablishedOn = e.establishedOn
            for g in e.goals { goals[g.goalId] = PlanGoal(horizon: g.horizon) }
            for m in e.measures { measures[m.measureId] = .some(m.responsible.map { _ in "" }) }
            nextEvaluationDue = e.nextEvaluationDue
            status = .active
        case .goalAdded(let e):
            goals[e.goal.goalId] = PlanGoal(horizon: e.goal.horizon)
        case .goalAchieved(let e):
            goals[e.goalId]?.achievedOn = e.achievedOn
        case .measureAdded(let e):
            measures[e.measure.measureId] = .some(e.measure.responsible.map { _ in "" })
        case .planEvaluated(let e):
            evaluations.append(e.evaluatedOn)
            nextEvaluationDue = e.nextEvaluationDue
        case .transitionPlanned(let e):
            var transition = e
            transition.transition = ""
            transitions.append(transition)
        case .deviationReported(let e):
            deviations[e.deviationId] = Deviation(reportedOn: e.reportedOn, category: e.category)
        case .deviationResolved(let e):
            deviations[e.deviationId]?.resolvedOn = e.resolvedOn
        case .planClosed(let e):
            closed = e
            status = .closed
        case .coordinatorRegistered, .coordinatorTrained, .coordinatorDeactivated:
            break  // not case events; the catalogue keeps them out of case streams
        }
    }

    /// Changes a value in place (a dictionary's entry looked up once).
    private static func change<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }
}

/// A coordinator's registration and training: a fold over a coordinator stream.
public struct CoordinatorState: Hashable, Sendable {
    public var registered: CoordinatorRegistered?
    public var trainings: [CoordinatorTrained] = []
    public var deactivatedOn: BusinessDate?

    public init() {}

    /// Registered and not deactivated, as the log stands.
    public var isAvailable: Bool { registered != nil && deactivatedOn == nil }

    /// Trained on or before `date`.
    public func trained(on date: BusinessDate) -> Bool { trainings.contains { $0.trainedOn <= date } }

    public mutating func apply(_ event: DomainEvent) {
        switch event {
        case .coordinatorRegistered(let e): registered = e
        case .coordinatorTrained(let e): trainings.append(e)
        case .coordinatorDeactivated(let e): deactivatedOn = e.deactivatedOn
        default: break
        }
    }
}
