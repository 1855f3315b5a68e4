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

    public func key(for event: RecordedEvent) -> String? {
        guard event.type == "CoordinatorAppointed" else { return nil }
        // Read in place; a member name that is not ASCII (never in a payload the
        // catalogue wrote) is looked up as the JSON form compares names.
        let id = event.packedPayload.withUnsafeBytes { bytes -> String? in
            guard let object = PackedObject.whole(bytes) else { return nil }
            guard object.namesAreASCII else { return (try? event.payload())?["coordinatorId"]?.stringValue }
            return object.member("coordinatorId")?.string
        }
        return id.map { "coordinator-" + $0 }
    }

    public func apply(_ event: RecordedEvent, decoded: DomainEvent, to value: inout [String]?) throws {
        var cases = value.take() ?? []
        // Sorted, so the value does not depend on the order of streams in the log
        // (a rebuild folds stream by stream).
        let i = cases.firstIndex { $0 >= event.stream } ?? cases.count
        if i == cases.count || cases[i] != event.stream { cases.insert(event.stream, at: i) }
        value = cases
    }
}
