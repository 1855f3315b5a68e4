import Domain
import EventLog
import ProjectionKit

/// The coordinator workload read model's fold: per coordinator, the cases they
/// have been appointed to, so a workload report visits only those cases.
public struct CoordinatorWorkloadProjection: Projection {
    public typealias Value = [String]
    public static let name = "coordinatorWorkload"

    public init() {}

    public func key(for event: RecordedEvent) -> String? {
        guard event.type == "CoordinatorAppointed", let id = (try? event.payload())?["coordinatorId"]?.stringValue else { return nil }
        return "coordinator-" + id
    }

    public func apply(_ event: RecordedEvent, decoded: DomainEvent, to value: inout [String]?) throws {
        var cases = value ?? []
        value = nil
        if !cases.contains(event.stream) { cases.append(event.stream) }
        value = cases
    }
}
