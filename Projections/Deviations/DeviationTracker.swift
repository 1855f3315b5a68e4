import BinaryCodable
import Domain
import EventLog

/// One deviation of one case: when its clock starts, what ends it, and (for the
/// rules with a date of their own) the fixed deadline.
///
/// `since` is not stored: it depends on the configured period, so it is
/// computed when a report is made (``since(config:)``), and a changed
/// configuration needs no rebuild.
public struct DeviationInterval: Hashable, Sendable {
    public var rule: DeviationRule
    /// The meeting, item, coordinator or deviation id, where the rule fires more than once in a case.
    public var ref: String?
    /// The date the period runs from (for rules "at once", the date it opens).
    public var start: BusinessDate
    /// A deadline fixed by the case (`dueOn`, `nextEvaluationDue`, a preliminary
    /// reply's `expectedDecisionBy`): `since` is the day after it.
    public var deadline: BusinessDate?
    /// The business date of the event that ended it (nil while it waits or is open).
    public var end: BusinessDate?
    /// It opens no earlier than this: the day the rules applied again to a case
    /// after a denial that had stopped it (an appeal that reversed the denial).
    public var notBefore: BusinessDate?

    public init(rule: DeviationRule, ref: String? = nil, start: BusinessDate, deadline: BusinessDate? = nil,
                end: BusinessDate? = nil, notBefore: BusinessDate? = nil) {
        self.rule = rule
        self.ref = ref
        self.start = start
        self.deadline = deadline
        self.end = end
        self.notBefore = notBefore
    }

    /// The day it opens: deadline + 1 day, or the start for rules "at once";
    /// and not before ``notBefore``.
    public func since(config: DeviationConfig) -> BusinessDate {
        let own: BusinessDate
        if let deadline {
            own = deadline.adding(days: 1)
        } else if let period = config.periods[rule] {
            own = period.after(start).adding(days: 1)
        } else {
            own = start
        }
        return notBefore.map { max(own, $0) } ?? own
    }
}

/// The deviation checks of docs/RULES.md as a pure fold over one case's events in log
/// order: the case state, and every deviation interval the history gives.
///
/// Rules that depend on another stream (`coordinatorUntrained`: the coordinator's
/// training) are resolved when a report is made, against the registry as of the
/// report's date.
public struct DeviationTracker: Hashable, Sendable {
    public var state = CaseState()
    public private(set) var intervals: [DeviationInterval] = []
    /// The indices of the intervals nothing has ended yet (waiting or open),
    /// ascending: what an event that starts or ends one looks through, instead
    /// of every interval the case ever had. Drawn from ``intervals`` (not stored).
    private var unended: [Int] = []
    /// The intervals (indices) the case's denial stopped before anything
    /// ended them: when the rules apply again (an appeal reverses the denial),
    /// each goes on from that day (DOMAIN: "a deviation whose since fell while
    /// the case was denied, and that nothing has ended, opens on the appeal
    /// decision's date"; one whose since comes later opens on its own).
    public var stoppedByDenial: [Int] = []
    /// The latest business date among the case's events: the tracker answers for
    /// any report date on or after it; earlier dates need a refold of the events up to them.
    public var latestOccurredOn: BusinessDate?

    public init() {}

    /// The tracker of `events` (typed, with their business dates) in log order.
    public static func fold(_ events: [(DomainEvent, BusinessDate)]) -> DeviationTracker {
        events.reduce(into: DeviationTracker()) { $0.apply($1.0, occurredOn: $1.1) }
    }

    private func pending(_ rule: DeviationRule, _ ref: String? = nil) -> Int? {
        unended.last { intervals[$0].rule == rule && (ref == nil || intervals[$0].ref == ref) }
    }

    private mutating func open(_ rule: DeviationRule, ref: String? = nil, start: BusinessDate, deadline: BusinessDate? = nil, allowed: Set<DeviationRule>?) {
        if let allowed, !allowed.contains(rule) { return }
        if pending(rule, ref) != nil { return }  // already waiting or open
        add(DeviationInterval(rule: rule, ref: ref, start: start, deadline: deadline))
    }

    private mutating func add(_ interval: DeviationInterval) {
        unended.append(intervals.count)
        intervals.append(interval)
    }

    private mutating func end(_ rule: DeviationRule, ref: String? = nil, on date: BusinessDate) {
        var kept = 0  // the unended are compacted in place
        for j in unended.indices {
            let i = unended[j]
            if intervals[i].rule == rule && (ref == nil || intervals[i].ref == ref) {
                intervals[i].end = date
            } else {
                if kept != j { unended[kept] = i }  // written only once something has ended
                kept += 1
            }
        }
        if kept < unended.count { unended.removeSubrange(kept...) }
    }

    /// Ends every interval still waiting or open but `surviving`'s; returns their indices.
    @discardableResult
    private mutating func endAll(except surviving: Set<DeviationRule>, on date: BusinessDate) -> [Int] {
        let ended = unended.filter { !surviving.contains(intervals[$0].rule) }
        for i in ended { intervals[i].end = date }
        unended = unended.filter { surviving.contains(intervals[$0].rule) }
        return ended
    }

    /// The rules apply again from `date` (the case left `denied` other than by
    /// closing): what the denial stopped goes on, opening no earlier than `date`.
    private mutating func resumeAfterDenial(on date: BusinessDate) {
        for i in stoppedByDenial {
            let stopped = intervals[i]
            if pending(stopped.rule, stopped.ref) != nil { continue }  // already started again
            add(DeviationInterval(rule: stopped.rule, ref: stopped.ref, start: stopped.start, deadline: stopped.deadline, notBefore: date))
        }
        stoppedByDenial = []
    }

    /// Folds one event.
    /// - Parameter personKey: the key slot of the event's sealed values
    ///   (``CaseState/apply(_:occurredOn:personKey:)``).
    public mutating func apply(_ event: DomainEvent, occurredOn: BusinessDate, personKey: UInt32? = nil) {
        // The few facts needed from before the event; copying the whole state
        // would make every event cost as much as the case is large.
        let before = Before(state, event)
        state.apply(event, occurredOn: occurredOn, personKey: personKey)
        latestOccurredOn = max(latestOccurredOn ?? occurredOn, occurredOn)
        let date = event.ownDate ?? occurredOn
        // What may start now: after a closure only three rules, after a denial five.
        let allowed: Set<DeviationRule>? = switch before.status {
        case .closed: DeviationRule.survivingClosure
        case .denied: DeviationRule.survivingDenial
        default: nil
        }

        switch event {
        case .applicationReceived(let e):
            open(.preliminaryReplyMissing, start: e.receivedOn, allowed: allowed)
            open(.decisionOverdue, start: e.receivedOn, allowed: allowed)
            if let person = PersonID(e.personId), person.age(on: e.receivedOn) < 18 {
                let sixMonthsBefore18 = person.birthDate.adding(months: 18 * 12).adding(months: -6)
                open(.transitionNotPlanned, start: max(e.receivedOn, sixMonthsBefore18), allowed: allowed)
            }
        case .preliminaryReplySent(let e):
            end(.preliminaryReplyMissing, on: e.sentOn)
            if let i = pending(.decisionOverdue) { intervals[i].deadline = e.expectedDecisionBy }
        case .decisionSent(let e):
            end(.preliminaryReplyMissing, on: e.sentOn)
            if e.appealInformationIncluded {
                end(.appealInformationMissing, on: e.sentOn)
            } else {
                open(.appealInformationMissing, start: e.sentOn, allowed: nil)
            }
        case .decisionMade(let e):
            end(.decisionOverdue, on: e.decidedOn)
            let offers = e.individualPlan == .granted || e.coordinator != .notRequested || e.childCoordinator != .notRequested
            if offers {
                end(.coordinatorNotOffered, on: e.decidedOn)
            } else if let a = state.assessment, a.longTermNeed, a.coordinatedNeed {  // a decision leaves the assessment as it was
                open(.coordinatorNotOffered, start: e.decidedOn, allowed: allowed)
            }
            if state.status == .denied {
                stoppedByDenial += endAll(except: DeviationRule.survivingDenial, on: e.decidedOn)
            } else {
                if e.grantsCoordinator, !before.hadCoordinator {
                    open(.coordinatorNotAppointed, start: e.decidedOn, allowed: allowed)
                }
                planMayStart(on: e.decidedOn, allowed: allowed)
            }
            planWorkConsentMayEnd(on: e.decidedOn)
        case .consentGiven(let e):
            if e.scope.contains(.individualPlan) {
                planMayStart(on: e.givenOn, allowed: allowed)
                planWorkConsentMayEnd(on: e.givenOn)
            }
        case .consentWithdrawn(let e):
            if e.scope.contains(.individualPlan) { end(.planNotEstablished, on: e.withdrawnOn) }
        case .appealReceived(let e):
            open(.appealOverdue, start: e.receivedOn, allowed: nil)
        case .appealForwarded(let e):
            end(.appealOverdue, on: e.forwardedOn)
        case .appealDecided(let e):
            end(.appealOverdue, on: e.decidedOn)
        case .coordinatorAppointed(let e):
            end(.coordinatorNotAppointed, on: e.appointedOn)
            end(.coordinatorMissing, on: e.appointedOn)
            open(.coordinatorUntrained, ref: e.coordinatorId, start: e.appointedOn, allowed: allowed)
        case .coordinatorReleased(let e):
            end(.coordinatorUntrained, ref: e.coordinatorId, on: e.releasedOn)
            if state.activeCoordinator == nil {
                open(.coordinatorMissing, ref: e.coordinatorId, start: e.releasedOn, allowed: allowed)
            }
        case .groupMemberAdded(let e):
            if !before.hadMembers {
                let lastHeld = state.meetings.values.compactMap(\.heldOn).max()
                open(.meetingOverdue, start: max(e.addedOn, lastHeld ?? e.addedOn), allowed: allowed)
            }
        case .groupMemberRemoved(let e):
            if state.members.isEmpty { end(.meetingOverdue, on: e.removedOn) }
        case .meetingHeld(let e):
            end(.meetingOverdue, on: e.heldOn)
            if !state.members.isEmpty { open(.meetingOverdue, start: e.heldOn, allowed: allowed) }
            if !e.minutesWritten { open(.minutesMissing, ref: e.meetingId, start: e.heldOn, allowed: allowed) }
            for item in e.actionItems {
                open(.actionItemOverdue, ref: item.itemId, start: e.heldOn, deadline: item.dueOn, allowed: allowed)
            }
        case .minutesWritten(let e):
            end(.minutesMissing, ref: e.meetingId, on: e.writtenOn)
        case .actionItemCompleted(let e):
            end(.actionItemOverdue, ref: e.itemId, on: e.completedOn)
        case .planEstablished(let e):
            planWorkWithoutConsent(before, on: e.establishedOn, allowed: allowed)
            end(.planNotEstablished, on: e.establishedOn)
            if !planComplete { open(.planIncomplete, start: e.establishedOn, allowed: allowed) }
            if let due = e.nextEvaluationDue { open(.evaluationOverdue, start: e.establishedOn, deadline: due, allowed: allowed) }
        case .goalAdded, .measureAdded:
            planWorkWithoutConsent(before, on: date, allowed: allowed)
            if planComplete { end(.planIncomplete, on: date) }
        case .goalAchieved:
            planWorkWithoutConsent(before, on: date, allowed: allowed)
        case .planEvaluated(let e):
            planWorkWithoutConsent(before, on: e.evaluatedOn, allowed: allowed)
            if planComplete { end(.planIncomplete, on: e.evaluatedOn) }
            end(.evaluationOverdue, on: e.evaluatedOn)
            open(.evaluationOverdue, start: e.evaluatedOn, deadline: e.nextEvaluationDue, allowed: allowed)
        case .transitionPlanned:
            end(.transitionNotPlanned, on: occurredOn)
        case .deviationReported(let e):
            open(.reportedDeviation, ref: e.deviationId, start: e.reportedOn, allowed: nil)
        case .deviationResolved(let e):
            end(.reportedDeviation, ref: e.deviationId, on: e.resolvedOn)
        case .planClosed(let e):
            endAll(except: DeviationRule.survivingClosure, on: e.closedOn)
        case .assessmentCompleted, .meetingScheduled, .meetingCancelled,
             .coordinatorRegistered, .coordinatorTrained, .coordinatorDeactivated:
            break  // no rule starts or ends with these (the assessment is read from the state)
        }
        if before.status == .denied, let status = state.status, status != .denied {
            // Out of the denial: by an appeal that reversed it (or a new decision that
            // grants); closing the case instead ends what the denial stopped for good.
            if status == .closed { stoppedByDenial = [] } else { resumeAfterDenial(on: date) }
        }
    }

    /// A plan is complete with a goal, a measure with someone responsible, and a next evaluation date.
    var planComplete: Bool {
        !state.goals.isEmpty && state.measures.values.contains { $0 != nil } && state.nextEvaluationDue != nil
    }

    /// planNotEstablished starts once an IP is granted and consent to it is in force.
    private mutating func planMayStart(on date: BusinessDate, allowed: Set<DeviationRule>?) {
        guard state.individualPlanGranted, let given = state.consent[.individualPlan], state.planEstablishedOn == nil,
              let granted = state.decisions.last(where: { $0.individualPlan == .granted })?.decidedOn else { return }
        open(.planNotEstablished, start: max(granted, given), allowed: allowed)
    }

    /// What the rules for `event` read of the state before it (each fact only
    /// for the events whose rules read it: the rest of the state stays untouched).
    private struct Before {
        var status: CaseStatus?
        /// A coordinator was active (read for a decision).
        var hadCoordinator = false
        /// The group had members (read for a member added).
        var hadMembers = false
        /// An IP was granted and consent to it was in force (read for plan work).
        var planAllowed = false

        init(_ state: borrowing CaseState, _ event: borrowing DomainEvent) {  // borrowed: an initializer would take copies
            status = state.status
            switch event {
            case .decisionMade: hadCoordinator = state.activeCoordinator != nil
            case .groupMemberAdded: hadMembers = !state.members.isEmpty
            case .planEstablished, .goalAdded, .measureAdded, .goalAchieved, .planEvaluated:
                planAllowed = state.individualPlanGranted && state.consentInForce(.individualPlan)
            default: break
            }
        }
    }

    private mutating func planWorkWithoutConsent(_ before: Before, on date: BusinessDate, allowed: Set<DeviationRule>?) {
        if !before.planAllowed {
            open(.planWorkWithoutConsent, start: date, allowed: allowed)
        }
    }

    private mutating func planWorkConsentMayEnd(on date: BusinessDate) {
        if state.individualPlanGranted, state.consentInForce(.individualPlan) { end(.planWorkWithoutConsent, on: date) }
    }
}

extension DeviationRule: CompactCodable {}

extension DeviationInterval: CompactCodable {
    public func write(to w: inout CompactWriter) {
        w.write(rule); w.write(ref); w.write(start); w.write(deadline); w.write(end); w.write(notBefore)
    }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(rule: try r.read(), ref: try r.read(), start: try r.read(), deadline: try r.read(), end: try r.read(), notBefore: try r.read())
    }
}

extension DeviationTracker: CompactCodable {
    public func write(to w: inout CompactWriter) {
        w.write(state)
        writeAfterState(to: &w)
    }

    /// The fields after the state: a rebuild that writes the state's bytes for
    /// the case status too encodes it once.
    public func writeAfterState(to w: inout CompactWriter) {
        w.write(intervals); w.write(latestOccurredOn); w.write(stoppedByDenial)
    }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init()
        state = try r.read()
        intervals = try r.read()
        unended = intervals.indices.filter { intervals[$0].end == nil }
        latestOccurredOn = try r.read()
        let stopped: [Int] = try r.read()
        guard stopped.allSatisfy({ intervals.indices.contains($0) }) else { throw CompactError("a stopped interval is not one of the case's") }
        stoppedByDenial = stopped
    }
}
