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

    public init(version: UInt64 = 0, caseState: CaseState? = nil, coordinator: CoordinatorState? = nil) {
        self.version = version
        self.caseState = caseState
        self.coordinator = coordinator
    }
}

/// The case status read model: per case and coordinator stream, its folded state.
public struct CaseStatusProjection: Projection {
    public typealias Value = StatusRecord
    public static let name = "caseStatus"

    public init() {}

    public func key(for event: StoredEvent) -> String? {
        let stream = event.stream
        return StreamKind(stream: stream) == nil ? nil : stream
    }

    public func apply(_ event: StoredEvent, decoded: DomainEvent, to value: inout StatusRecord?) throws {
        // Moved out (`take`), not copied, so that each state has one reference
        // and mutates in place.
        var record = value.take() ?? StatusRecord()
        record.version = event.version
        if event.streamHasPrefix("coordinator-") {
            var c = record.coordinator.take() ?? CoordinatorState()
            c.apply(decoded)
            record.coordinator = c
        } else {
            var s = record.caseState.take() ?? CaseState()
            s.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealedSlot)
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
