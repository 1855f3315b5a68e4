import CaseStatus
import Deviations
import Domain
import EventLog
import ProjectionKit

/// One coordinator's workload on a date.
public struct WorkloadRow: Hashable, Sendable {
    public var coordinatorId: String
    /// The unit of the coordinator's registration.
    public var unit: String
    /// Cases neither closed nor denied where they are the active coordinator.
    public var activeCases = 0
    /// Meetings held from date − 89 days to date on cases where they were the active coordinator that day.
    public var meetingsLast90Days = 0
    /// Meetings scheduled after the date, not held or cancelled, on their active cases.
    public var meetingsScheduledAhead = 0
    /// Deviations open on the date on their active cases.
    public var openDeviations = 0
    /// A CoordinatorTrained dated on or before the date.
    public var trained = false
    public var deactivated = false
}

/// The coordinator workload report (a read model of docs/RULES.md) over a store's read models.
public struct WorkloadQuery: Sendable {
    public let deviations: DeviationQuery

    public init(deviations: DeviationQuery) { self.deviations = deviations }

    /// Per registered coordinator (registered on or before `date`), ordered by unit and id.
    public func rows(asOf date: BusinessDate, unit: String? = nil) throws -> [WorkloadRow] {
        let views = deviations.views
        let trackers = Dictionary(uniqueKeysWithValues: try deviations.trackers(asOf: date).map { ($0.stream, $0.tracker) })
        let trainings = try deviations.trainings()
        let appointed = Dictionary(uniqueKeysWithValues: try views.values([String].self, projection: CoordinatorWorkloadProjection.name).map { ($0.key, $0.value) })
        var rows: [WorkloadRow] = []
        for (stream, record) in try views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "coordinator-") {
            guard let c = record.coordinator, let registration = c.registered, registration.registeredOn <= date else { continue }
            if let unit, registration.unit != unit { continue }
            let id = registration.coordinatorId
            var row = WorkloadRow(coordinatorId: id, unit: registration.unit)
            row.trained = c.trainings.contains { $0.trainedOn <= date }
            row.deactivated = c.deactivatedOn.map { $0 <= date } ?? false
            let window = date.adding(days: -89)...date
            for caseStream in appointed[stream] ?? [] {
                guard let tracker = trackers[caseStream] else { continue }
                let state = tracker.state
                let periods = state.appointments.filter { $0.coordinatorId == id }
                func activeOn(_ day: BusinessDate) -> Bool {
                    periods.contains { $0.appointedOn <= day && ($0.releasedOn.map { $0 > day } ?? true) }
                }
                row.meetingsLast90Days += state.meetings.values.compactMap(\.heldOn).filter { window.contains($0) && activeOn($0) }.count
                guard state.isOpen, DeviationReport.coordinator(on: date, in: state) == id else { continue }
                row.activeCases += 1
                row.meetingsScheduledAhead += state.meetings.values.filter {
                    $0.heldOn == nil && $0.cancelledOn == nil && ($0.scheduledFor.map { $0 > date } ?? false)
                }.count
                row.openDeviations += DeviationReport.open(tracker, stream: caseStream, asOf: date, config: deviations.config) { trainings[$0] ?? [] }.count
            }
            rows.append(row)
        }
        return rows.sorted { ($0.unit, $0.coordinatorId) < ($1.unit, $1.coordinatorId) }
    }
}

/// A unit's workload: its coordinators' rows summed (the unit of their registration).
public struct UnitWorkload: Hashable, Sendable {
    public var unit: String
    public var coordinators = 0
    public var activeCases = 0
    public var meetingsLast90Days = 0
    public var meetingsScheduledAhead = 0
    public var openDeviations = 0
    public var trained = 0

    /// Per unit, in unit order.
    public static func totals(_ rows: [WorkloadRow]) -> [UnitWorkload] {
        var byUnit: [String: UnitWorkload] = [:]
        for row in rows {
            var u = byUnit[row.unit] ?? UnitWorkload(unit: row.unit)
            u.coordinators += 1
            u.activeCases += row.activeCases
            u.meetingsLast90Days += row.meetingsLast90Days
            u.meetingsScheduledAhead += row.meetingsScheduledAhead
            u.openDeviations += row.openDeviations
            if row.trained { u.trained += 1 }
            byUnit[row.unit] = u
        }
        return byUnit.values.sorted { $0.unit < $1.unit }
    }
}
