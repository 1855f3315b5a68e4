import Domain
import EventLog

/// Processing time (*saksbehandlingstid*): per unit and month of the decision,
/// how many cases were decided, the median and 90th percentile of the days from
/// the application to the case's first decision, and how many were decided
/// after their deadline (the `decisionOverdue` rule's: 8 weeks from the
/// application by default, or the latest preliminary reply's expected date).
public enum ProcessingTime {
    public struct Row: Hashable, Sendable {
        public var unit: String
        /// `YYYY-MM` of the decisions.
        public var month: String
        public var decisions: Int
        /// Days from the application to the decision: the median and the 90th
        /// percentile (nearest rank: the smallest value with at least that share
        /// of the decisions at or below it).
        public var medianDays: Int
        public var p90Days: Int
        public var pastDeadline: Int
    }

    /// The first decision of each case decided from `from` to `to` (both
    /// included), grouped by unit and month; `unit` filters.
    public static func rows(_ cases: [CaseState], from: BusinessDate, to: BusinessDate, unit: String? = nil, config: DeviationConfig) -> [Row] {
        var groups: [String: [String: [(days: Int, late: Bool)]]] = [:]
        for state in cases {
            guard let received = state.receivedOn, let decided = state.decisions.first?.decidedOn,
                  decided >= from, decided <= to, unit == nil || state.unit == unit else { continue }
            let deadline = state.expectedDecisionBy ?? (config.periods[.decisionOverdue] ?? Period(8, .weeks)).after(received)
            let month = String(decided.description.prefix(7))
            groups[state.unit ?? "", default: [:]][month, default: []].append((received.days(until: decided), decided > deadline))
        }
        return groups.flatMap { unit, months in
            months.map { month, decisions in
                let days = decisions.map(\.days).sorted()
                return Row(unit: unit, month: month, decisions: days.count, medianDays: nearestRank(days, 50), p90Days: nearestRank(days, 90),
                           pastDeadline: decisions.filter(\.late).count)
            }
        }.sorted { ($0.unit, $0.month) < ($1.unit, $1.month) }
    }

    /// The `percent` percentile of sorted `values` by nearest rank.
    static func nearestRank(_ sorted: [Int], _ percent: Int) -> Int {
        let rank = max(1, (sorted.count * percent + 99) / 100)
        return sorted[rank - 1]
    }
}
