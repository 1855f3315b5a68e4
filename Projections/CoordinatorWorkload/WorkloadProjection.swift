import BinaryCodable
import Domain
import EventLog
import JSON
import ProjectionKit

/// The coordinator workload read model's fold: per coordinator, the cases they
/// have been appointed to (in id order), so a workload report visits only those cases.
public struct CoordinatorWorkloadProjection: Projection {
    public typealias Value = [String]
    public static let name = "coordinatorWorkload"

    public init() {}

    public func key(for event: StoredEvent) -> String? {
        guard event.isType("CoordinatorAppointed"), let object = PackedObject.whole(event.packedPayload) else { return nil }
        // Read in place; a member name that is not ASCII (never in a payload the
        // catalogue wrote) is looked up as the JSON form compares names.
        let id = object.namesAreASCII ? object.member("coordinatorId")?.string
            : (try? event.recorded().payload())?["coordinatorId"]?.stringValue
        return id.map { "coordinator-" + $0 }
    }

    public func apply(_ event: StoredEvent, decoded: DomainEvent, to value: inout [String]?) throws {
        var cases = value.take() ?? []
        Self.insert(event.stream, into: &cases)
        value = cases
    }

    /// Inserts a case in id order, once: the value then does not depend on how
    /// the log interleaves streams.
    public static func insert(_ stream: String, into cases: inout [String]) {
        let i = cases.firstIndex { $0 >= stream } ?? cases.count
        if i == cases.count || cases[i] != stream { cases.insert(stream, at: i) }
    }
}
