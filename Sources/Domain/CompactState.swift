import BinaryCodable
import EventLog

// The compact form (``CompactCodable``) of the folded states the read models
// and snapshots store: each type's fields in declaration order. Changing a
// stored field here means raising ``CaseState/snapshotFormat`` and the read
// models' value format.

extension BusinessDate: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(daysSinceEpoch) }
    public init(from r: inout CompactReader) throws(CompactError) { self.init(daysSinceEpoch: try r.read()) }
}

extension CaseStatus: CompactCodable {}
extension Service: CompactCodable {}
extension Origin: CompactCodable {}
extension ConsentScope: CompactCodable {}
extension Verdict: CompactCodable {}
extension Channel: CompactCodable {}
extension AppealOutcome: CompactCodable {
    /// Also reads version 1's name, which read models and snapshots written
    /// before schema version 2 of `AppealDecided` hold.
    public init(from r: inout CompactReader) throws(CompactError) {
        let name = try String(from: &r)
        guard let value = AppealOutcome(rawValue: name) ?? AppealOutcome.formerNames[name] else {
            throw CompactError("AppealOutcome: not one of its values")
        }
        self = value
    }
}
extension Horizon: CompactCodable {}
extension CloseReason: CompactCodable {}

extension AssessmentCompleted: CompactCodable {
    public func write(to w: inout CompactWriter) {
        w.write(completedOn); w.write(longTermNeed); w.write(services); w.write(residesInMunicipality); w.write(wantsIndividualPlan)
    }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(completedOn: try r.read(), longTermNeed: try r.read(), services: try r.read(),
                  residesInMunicipality: try r.read(), wantsIndividualPlan: try r.read())
    }
}

extension DecisionMade: CompactCodable {
    public func write(to w: inout CompactWriter) {
        w.write(decidedOn); w.write(individualPlan); w.write(coordinator); w.write(childCoordinator); w.write(grounds); w.write(decidedBy)
    }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(decidedOn: try r.read(), individualPlan: try r.read(), coordinator: try r.read(), childCoordinator: try r.read(),
                  grounds: try r.read(), decidedBy: try r.read())
    }
}

extension DecisionSent: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(sentOn); w.write(channel); w.write(appealInformationIncluded) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(sentOn: try r.read(), channel: try r.read(), appealInformationIncluded: try r.read())
    }
}

extension TransitionPlanned: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(transition); w.write(plannedFor) }
    public init(from r: inout CompactReader) throws(CompactError) { self.init(transition: try r.read(), plannedFor: try r.read()) }
}

extension PlanClosed: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(closedOn); w.write(reason) }
    public init(from r: inout CompactReader) throws(CompactError) { self.init(closedOn: try r.read(), reason: try r.read()) }
}

extension CoordinatorRegistered: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(coordinatorId); w.write(name); w.write(unit); w.write(profession); w.write(registeredOn) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(coordinatorId: try r.read(), name: try r.read(), unit: try r.read(), profession: try r.read(), registeredOn: try r.read())
    }
}

extension CoordinatorTrained: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(trainedOn); w.write(course) }
    public init(from r: inout CompactReader) throws(CompactError) { self.init(trainedOn: try r.read(), course: try r.read()) }
}

extension CoordinatorState: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(registered); w.write(trainings); w.write(deactivatedOn) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init()
        registered = try r.read()
        trainings = try r.read()
        deactivatedOn = try r.read()
    }
}

extension CaseState.Appointment: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(coordinatorId); w.write(appointedOn); w.write(releasedOn) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(coordinatorId: try r.read(), appointedOn: try r.read(), releasedOn: try r.read())
    }
}

extension CaseState.Meeting: CompactCodable {
    public func write(to w: inout CompactWriter) {
        w.write(scheduledFor); w.write(heldOn); w.write(cancelledOn); w.write(minutesWritten); w.write(minutesWrittenOn)
    }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(scheduledFor: try r.read(), heldOn: try r.read(), cancelledOn: try r.read(), minutesWritten: try r.read(),
                  minutesWrittenOn: try r.read())
    }
}

extension CaseState.Item: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(meetingId); w.write(dueOn); w.write(completedOn) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(meetingId: try r.read(), dueOn: try r.read(), completedOn: try r.read())
    }
}

extension CaseState.PlanGoal: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(horizon); w.write(achievedOn) }
    public init(from r: inout CompactReader) throws(CompactError) { self.init(horizon: try r.read(), achievedOn: try r.read()) }
}

extension CaseState.Appeal: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(receivedOn); w.write(forwardedOn); w.write(decidedOn); w.write(outcome); w.write(decisionSentOn) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(receivedOn: try r.read(), forwardedOn: try r.read(), decidedOn: try r.read(), outcome: try r.read(), decisionSentOn: try r.read())
    }
}

extension CaseState.Deviation: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(reportedOn); w.write(category); w.write(resolvedOn) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(reportedOn: try r.read(), category: try r.read(), resolvedOn: try r.read())
    }
}

extension CaseState: CompactCodable {
    public func write(to w: inout CompactWriter) {
        w.write(status); w.write(personKey); w.write(receivedOn); w.write(requested); w.write(origin); w.write(unit)
        w.write(preliminaryReplies); w.write(expectedDecisionBy); w.write(assessment); w.write(consent); w.write(decisions)
        w.write(lettersSent); w.write(appeals); w.write(appointments); w.write(members); w.write(memberIDs); w.write(meetings)
        w.write(items); w.write(planEstablishedOn); w.write(goals); w.write(measures); w.write(nextEvaluationDue)
        w.write(evaluations); w.write(transitions); w.write(deviations); w.write(closed); w.write(lastEventOn)
    }

    public init(from r: inout CompactReader) throws(CompactError) {
        self.init()
        status = try r.read(); personKey = try r.read(); receivedOn = try r.read(); requested = try r.read()
        origin = try r.read(); unit = try r.read(); preliminaryReplies = try r.read(); expectedDecisionBy = try r.read()
        assessment = try r.read(); consent = try r.read(); decisions = try r.read(); lettersSent = try r.read()
        appeals = try r.read(); appointments = try r.read(); members = try r.read(); memberIDs = try r.read()
        meetings = try r.read(); items = try r.read(); planEstablishedOn = try r.read(); goals = try r.read()
        measures = try r.read(); nextEvaluationDue = try r.read(); evaluations = try r.read(); transitions = try r.read()
        deviations = try r.read(); closed = try r.read(); lastEventOn = try r.read()
    }
}
