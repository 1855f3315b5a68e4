import BinaryCodable
import Domain
import EventLog
import ProjectionKit

/// What the case status read model keeps per stream: for a case its
/// ``CaseState``, for a coordinator its ``CoordinatorState`` (the registry), and
/// the stream's version.
public struct StatusRecord: Hashable, Sendable {
    public var version: UInt64 = 0
    public var caseState: CaseState?
    public var coordinator: CoordinatorState?
}

/// The case status read model: per case and coordinator stream, its folded state.
public struct CaseStatusProjection: Projection {
    public typealias Value = StatusRecord
    public static let name = "caseStatus"

    public init() {}

    public func key(for event: RecordedEvent) -> String? {
        StreamKind(stream: event.stream) == nil ? nil : event.stream
    }

    public func apply(_ event: RecordedEvent, decoded: DomainEvent, to value: inout StatusRecord?) throws {
        // Moved out (`take`), not copied, so that each state has one reference
        // and mutates in place.
        var record = value.take() ?? StatusRecord()
        record.version = event.version
        switch StreamKind(stream: event.stream) {
        case .coordinator:
            var c = record.coordinator.take() ?? CoordinatorState()
            c.apply(decoded)
            record.coordinator = c
        default:
            var s = record.caseState.take() ?? CaseState()
            s.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealed?.slot)
            record.caseState = s
        }
        value = record
    }
}

extension StatusRecord: CompactCodable {
    public func write(to w: inout CompactWriter) { w.write(version); w.write(caseState); w.write(coordinator) }
    public init(from r: inout CompactReader) throws(CompactError) {
        self.init(version: try r.read(), caseState: try r.read(), coordinator: try r.read())
    }
}
