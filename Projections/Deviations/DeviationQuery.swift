import CaseStatus
import Domain
import EventLog
import ProjectionKit

/// The deviation report over a store's read models.
///
/// As of a date D, the answer is what the log said about D: a case whose events
/// all lie on or before D is answered from its kept tracker; a case with later
/// events is refolded from its events dated on or before D.
public struct DeviationQuery: Sendable {
    public let log: EventStore
    public let views: ViewStore
    public let config: DeviationConfig

    public init(log: EventStore, views: ViewStore, config: DeviationConfig) {
        self.log = log
        self.views = views
        self.config = config
    }

    /// Every case's tracker as the log stood on `date` (cases not yet opened by then left out).
    public func trackers(asOf date: BusinessDate) throws -> [(stream: String, tracker: DeviationTracker)] {
        try views.values(DeviationTracker.self, projection: DeviationsProjection.name).compactMap { stream, kept in
            try tracker(stream, kept: kept, asOf: date).map { (stream, $0) }
        }
    }

    /// The kept tracker of `stream` as the log stood on `date`: as kept when
    /// all its events lie on or before the date, else refolded from them; nil
    /// when the case was not yet opened then.
    func tracker(_ stream: String, kept: DeviationTracker, asOf date: BusinessDate) throws -> DeviationTracker? {
        if let latest = kept.latestOccurredOn, latest <= date { return kept }
        var tracker: DeviationTracker?
        try log.scan(stream: stream) { event in
            if event.occurredOn <= date {
                tracker = tracker ?? DeviationTracker()
                tracker!.apply(try decodeEvent(event, keys: log.personKeys), occurredOn: event.occurredOn, personKey: event.sealedSlot)
            }
            return true
        }
        return tracker
    }

    /// The deviations of one case open on `date` (what `open(asOf:)` lists for
    /// it, without reading every other case).
    public func open(asOf date: BusinessDate, stream: String) throws -> [DeviationRow] {
        guard let kept = try views.value(DeviationTracker.self, projection: DeviationsProjection.name, key: stream),
              let tracker = try tracker(stream, kept: kept, asOf: date) else { return [] }
        let trainings = try trainings()
        return DeviationReport.open(tracker, stream: stream, asOf: date, config: config) { trainings[$0] ?? [] }.sorted(by: Self.order)
    }

    /// Training dates per coordinator id, from the case status read model's registry.
    public func trainings() throws -> [String: [BusinessDate]] {
        var out: [String: [BusinessDate]] = [:]
        for (_, record) in try views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "coordinator-") {
            if let c = record.coordinator, let id = c.registered?.coordinatorId {
                out[id] = c.trainings.map(\.trainedOn)
            }
        }
        return out
    }

    /// Every deviation open on `date`, ordered by unit, rule, since and case.
    public func open(asOf date: BusinessDate, rule: DeviationRule? = nil, unit: String? = nil, coordinator: String? = nil) throws -> [DeviationRow] {
        let trainings = try trainings()
        return try trackers(asOf: date).flatMap { stream, tracker in
            DeviationReport.open(tracker, stream: stream, asOf: date, config: config) { trainings[$0] ?? [] }
        }.filter { (rule == nil || $0.rule == rule) && (unit == nil || $0.unit == unit) && (coordinator == nil || $0.coordinatorId == coordinator) }
        .sorted(by: Self.order)
    }

    /// Every deviation that ended from `from` to `to`, as the log stood on `to`.
    public func closed(from: BusinessDate, to: BusinessDate, rule: DeviationRule? = nil, unit: String? = nil, coordinator: String? = nil) throws -> [DeviationRow] {
        let trainings = try trainings()
        return try trackers(asOf: to).flatMap { stream, tracker in
            DeviationReport.closed(tracker, stream: stream, from: from, to: to, config: config) { trainings[$0] ?? [] }
        }.filter { (rule == nil || $0.rule == rule) && (unit == nil || $0.unit == unit) && (coordinator == nil || $0.coordinatorId == coordinator) }
        .sorted(by: Self.order)
    }

    /// One thing on a coordinator's agenda.
    public struct DueItem: Hashable, Sendable {
        public enum What: String, Sendable, CaseIterable {
            /// A scheduled meeting's day.
            case meetingScheduled
            /// The day by which the responsibility group must meet (the meeting rule's deadline).
            case meeting
            case evaluation
            case actionItem
            case minutes
        }
        public var stream: String
        public var what: What
        /// The meeting or action item concerned.
        public var ref: String?
        /// The day it falls due: after it, it is a deviation.
        public var due: BusinessDate
        public var unit: String?
    }

    /// What falls due on `coordinator`'s active cases (meetings, evaluations,
    /// action items, minutes): everything overdue on `date`, and what falls due
    /// in the `within` days after it; oldest first.
    public func due(coordinator: String, asOf date: BusinessDate, within days: Int) throws -> [DueItem] {
        let horizon = date.adding(days: days)
        let agendaRules: [DeviationRule: DueItem.What] = [.meetingOverdue: .meeting, .evaluationOverdue: .evaluation,
                                                          .actionItemOverdue: .actionItem, .minutesMissing: .minutes]
        var items: [DueItem] = []
        for (stream, tracker) in try trackers(asOf: date) {
            let state = tracker.state
            guard state.activeCoordinator == coordinator, state.isOpen else { continue }
            for interval in tracker.intervals where interval.end == nil {
                guard let what = agendaRules[interval.rule] else { continue }
                let due = interval.since(config: config).adding(days: -1)
                if due <= horizon { items.append(DueItem(stream: stream, what: what, ref: interval.ref, due: due, unit: state.unit)) }
            }
            for (id, meeting) in state.meetings {
                guard let day = meeting.scheduledFor, meeting.heldOn == nil, meeting.cancelledOn == nil, day >= date, day <= horizon else { continue }
                items.append(DueItem(stream: stream, what: .meetingScheduled, ref: id, due: day, unit: state.unit))
            }
        }
        return items.sorted { ($0.due, $0.stream, $0.what.rawValue, $0.ref ?? "") < ($1.due, $1.stream, $1.what.rawValue, $1.ref ?? "") }
    }

    static func order(_ a: DeviationRow, _ b: DeviationRow) -> Bool {
        ((a.unit ?? ""), a.rule.rawValue, a.since, a.stream, a.ref ?? "") < ((b.unit ?? ""), b.rule.rawValue, b.since, b.stream, b.ref ?? "")
    }
}
