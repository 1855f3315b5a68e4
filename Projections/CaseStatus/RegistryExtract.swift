import Domain
import EventLog

/// The yearly extract for the municipal patient and user register (KPR): per
/// person who had a case in the year, whether they had an individual plan and a
/// coordinator in it. Due by 15 January.
public enum RegistryExtract {
    public struct Row: Hashable, Sendable {
        public var personId: String
        public var year: Int
        public var individualPlan: Bool
        public var coordinator: Bool
    }

    /// The day a case ended (closed, or denied by its last decision), if it has.
    static func endedOn(_ s: CaseState) -> BusinessDate? {
        if let closed = s.closed { return closed.closedOn }
        if s.status == .denied { return s.latestDecision?.decidedOn }
        return nil
    }

    /// One row per person with a case open at some time in `year`, in person id
    /// order. A person's cases share their key slot (``CaseState/personKey``);
    /// `personId` opens the id from one of their cases, and persons whose data
    /// has been erased (or who cannot be named) are left out.
    public static func rows(year: Int, cases: [(stream: String, state: CaseState)], personId: (String) throws -> String?) rethrows -> [Row] {
        guard let first = BusinessDate(year: year, month: 1, day: 1), let last = BusinessDate(year: year, month: 12, day: 31) else { return [] }
        var byPerson: [String: Row] = [:]
        var named: [UInt32: String?] = [:]
        for (stream, s) in cases {
            guard s.status != nil, let received = s.receivedOn, received <= last else { continue }
            let ended = endedOn(s)
            if let ended, ended < first { continue }
            let person: String?
            if let slot = s.personKey, let known = named[slot] {
                person = known
            } else {
                person = try personId(stream).flatMap { PersonID($0)?.digits }
                if let slot = s.personKey { named[slot] = .some(person) }
            }
            guard let person else { continue }
            var row = byPerson[person] ?? Row(personId: person, year: year, individualPlan: false, coordinator: false)
            if let established = s.planEstablishedOn, established <= last, ended.map({ $0 >= first }) ?? true {
                row.individualPlan = true
            }
            if s.appointments.contains(where: { $0.appointedOn <= last && ($0.releasedOn.map { $0 >= first } ?? true) }) {
                row.coordinator = true
            }
            byPerson[person] = row
        }
        return byPerson.values.sorted { $0.personId < $1.personId }
    }
}
