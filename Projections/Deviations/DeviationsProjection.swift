import Domain
import EventLog
import ProjectionKit

/// The deviations read model: per case, its ``DeviationTracker``.
public struct DeviationsProjection: Projection {
    public typealias Value = DeviationTracker
    public static let name = "deviations"

    public init() {}

    public func key(for event: StoredEvent) -> String? {
        event.streamHasPrefix("case-") ? event.stream : nil
    }

    public func apply(_ event: StoredEvent, decoded: DomainEvent, to value: inout DeviationTracker?) throws {
        var tracker = value.take() ?? DeviationTracker()  // moved out: the only reference, mutated in place
        tracker.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealedSlot)
        value = tracker
    }
}

/// One row of the deviation report.
public struct DeviationRow: Hashable, Sendable {
    public var stream: String
    public var rule: DeviationRule
    public var since: BusinessDate
    public var ref: String?
    /// The case's active coordinator on the report's date.
    public var coordinatorId: String?
    public var unit: String?
    /// The day it ended (for the report of those that closed in a period).
    public var end: BusinessDate?
    /// Days open: to the report's date, both included, or until it ended.
    public var daysOpen: Int
}

/// Turning trackers into report rows as of a date.
public enum DeviationReport {
    /// The coordinator active on `date` in a case state.
    public static func coordinator(on date: BusinessDate, in state: CaseState) -> String? {
        state.appointments.last { $0.appointedOn <= date && ($0.releasedOn.map { $0 > date } ?? true) }?.coordinatorId
    }

    /// The deviation intervals of a case with `since` and `end` resolved as of
    /// `date`: training of coordinators looked up in `trainings` (dates as the
    /// registry holds them; only those on or before `date` count). Intervals that
    /// never opened are left out.
    public static func resolved(
        _ tracker: DeviationTracker, asOf date: BusinessDate, config: DeviationConfig,
        trainings: (String) -> [BusinessDate]
    ) -> [(interval: DeviationInterval, since: BusinessDate, end: BusinessDate?)] {
        tracker.intervals.compactMap { interval in
            var end = interval.end
            if interval.rule == .coordinatorUntrained, let coordinator = interval.ref {
                let known = trainings(coordinator).filter { $0 <= date }
                if known.contains(where: { $0 <= interval.start }) { return nil }  // trained when appointed
                if let trained = known.filter({ $0 > interval.start }).min() { end = min(end ?? trained, trained) }
            }
            let since = interval.since(config: config)
            if let end, end <= since { return nil }  // the awaited event came in time: it never opened
            return (interval, since, end)
        }
    }

    /// The deviations of one case open on `date`.
    public static func open(
        _ tracker: DeviationTracker, stream: String, asOf date: BusinessDate, config: DeviationConfig,
        trainings: (String) -> [BusinessDate]
    ) -> [DeviationRow] {
        let coordinator = coordinator(on: date, in: tracker.state)
        return resolved(tracker, asOf: date, config: config, trainings: trainings)
            .filter { $0.since <= date && ($0.end.map { $0 > date } ?? true) }
            .map { r in
                DeviationRow(stream: stream, rule: r.interval.rule, since: r.since, ref: r.interval.ref,
                             coordinatorId: coordinator, unit: tracker.state.unit, end: nil,
                             daysOpen: r.since.days(until: date) + 1)
            }
    }

    /// The deviations of one case that ended from `from` to `to` (both included),
    /// as the log stood on `to`.
    public static func closed(
        _ tracker: DeviationTracker, stream: String, from: BusinessDate, to: BusinessDate, config: DeviationConfig,
        trainings: (String) -> [BusinessDate]
    ) -> [DeviationRow] {
        let coordinator = coordinator(on: to, in: tracker.state)
        return resolved(tracker, asOf: to, config: config, trainings: trainings).compactMap { r in
            guard let end = r.end, end >= from, end <= to else { return nil }
            return DeviationRow(stream: stream, rule: r.interval.rule, since: r.since, ref: r.interval.ref,
                                coordinatorId: coordinator, unit: tracker.state.unit, end: end,
                                daysOpen: r.since.days(until: end))
        }
    }
}
