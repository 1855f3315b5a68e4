import CaseStatus
import CoordinatorWorkload
import Deviations
import EventLog
import Foundation
import JSON
import ProjectionKit

/// The read models of a store, brought up to the log's head before a report, so
/// that the report reflects every event committed before the command started.
public struct ReportContext: Sendable {
    public let storePath: String
    public let log: EventStore
    public let views: ViewStore
    public let runner: ProjectionRunner
    public let config: DeviationConfig
    /// Where a stopped read model is reported (the CLI: standard error; the service: its log).
    public let warn: @Sendable (String) -> Void

    public static let projectionNames = [CaseStatusProjection.name, DeviationsProjection.name, CoordinatorWorkloadProjection.name]

    /// Opens the store at `path` (never creating one) and its read models.
    public init(storePath path: String, catchUp: Bool = true, warn: @escaping @Sendable (String) -> Void) throws {
        try self.init(log: try EventStore(directory: path, create: false), storePath: path, catchUp: catchUp, warn: warn)
    }

    /// The read models beside `log`, an open store at `path`.
    public init(log: EventStore, storePath path: String, catchUp: Bool = true, warn: @escaping @Sendable (String) -> Void) throws {
        storePath = path
        self.log = log
        views = try ViewStore(directory: path, projections: Self.projectionNames)
        runner = ProjectionRunner(log: log, views: views)
        config = try DeviationConfig.load(store: path)
        self.warn = warn
        if catchUp { try self.catchUp() }
    }

    /// Catches every projection up; a stopped one is reported on stderr and the
    /// others go on.
    public func catchUp() throws {
        warn(CaseStatusProjection.name, try runner.catchUp(CaseStatusProjection()))
        warn(DeviationsProjection.name, try runner.catchUp(DeviationsProjection()))
        warn(CoordinatorWorkloadProjection.name, try runner.catchUp(CoordinatorWorkloadProjection()))
    }

    public func warn(_ name: String, _ checkpoint: Checkpoint) {
        if let stopped = checkpoint.stoppedAt {
            warn("warning: the \(name) read model stopped at position \(stopped) (\(checkpoint.reason ?? "")); it reflects the log up to position \(checkpoint.position). Fix the cause, then run `iplog projections rebuild \(name)`.")
        }
    }

    public var deviations: DeviationQuery { DeviationQuery(log: log, views: views, config: config) }

    /// Every unit: those `config.json` lists, and those the cases and
    /// coordinators name, with how many cases (and open ones) and coordinators each has.
    public func units() throws -> [(unit: String, cases: Int, openCases: Int, coordinators: Int, listed: Bool)] {
        var counts: [String: (cases: Int, open: Int, coordinators: Int)] = [:]
        for (_, record) in try views.values(StatusRecord.self, projection: CaseStatusProjection.name) {
            if let state = record.caseState, let unit = state.unit {
                counts[unit, default: (0, 0, 0)].cases += 1
                if state.isOpen { counts[unit, default: (0, 0, 0)].open += 1 }
            } else if let unit = record.coordinator?.registered?.unit {
                counts[unit, default: (0, 0, 0)].coordinators += 1
            }
        }
        let listed = Set(config.units ?? [])
        return Set(counts.keys).union(listed).sorted().map { unit in
            let c = counts[unit] ?? (0, 0, 0)
            return (unit, c.cases, c.open, c.coordinators, listed.contains(unit))
        }
    }

    /// Refuses a `--unit` that matches no unit (a typo would otherwise answer
    /// with an empty report), naming the closest.
    public func checkUnit(_ unit: String?) throws {
        guard let unit else { return }
        let known = try units().map(\.unit)
        guard !known.contains(unit) else { return }
        let hint = Envelope.closest(to: unit, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
        throw LogError(.invalidShape, "--unit: no unit \"\(unit)\"\(hint); `iplog units` lists them")
    }
}

