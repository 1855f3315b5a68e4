import EventLog
import Foundation
import JSON

/// The deviation rules' codes (docs/RULES.md).
public enum DeviationRule: String, CaseIterable, Sendable, Hashable {
    case preliminaryReplyMissing = "preliminaryReplyMissing"
    case decisionOverdue = "decisionOverdue"
    case appealInformationMissing = "appealInformationMissing"
    case appealOverdue = "appealOverdue"
    case coordinatorNotOffered = "coordinatorNotOffered"
    case coordinatorNotAppointed = "coordinatorNotAppointed"
    case coordinatorMissing = "coordinatorMissing"
    case coordinatorUntrained = "coordinatorUntrained"
    case planNotEstablished = "planNotEstablished"
    case planIncomplete = "planIncomplete"
    case meetingOverdue = "meetingOverdue"
    case minutesMissing = "minutesMissing"
    case actionItemOverdue = "actionItemOverdue"
    case evaluationOverdue = "evaluationOverdue"
    case transitionNotPlanned = "transitionNotPlanned"
    case planWorkWithoutConsent = "planWorkWithoutConsent"
    case reportedDeviation = "reportedDeviation"

    /// The rules that closing a case does not end (and that may still start after it).
    public static let survivingClosure: Set<DeviationRule> = [.reportedDeviation, .appealOverdue, .appealInformationMissing]
    /// The rules that a denial does not end (and that may still start after it).
    public static let survivingDenial: Set<DeviationRule> = survivingClosure.union([.preliminaryReplyMissing, .coordinatorNotOffered])
}

/// A period: calendar months, weeks of 7 days, or days.
public struct Period: Hashable, Sendable, CustomStringConvertible {
    public enum Unit: String, Sendable { case days, weeks, months }
    public var count: Int
    public var unit: Unit

    public init(_ count: Int, _ unit: Unit) {
        self.count = count
        self.unit = unit
    }

    /// `start` plus the period (a month is a calendar month, clamped at its end).
    public func after(_ start: BusinessDate) -> BusinessDate {
        switch unit {
        case .days: start.adding(days: count)
        case .weeks: start.adding(weeks: count)
        case .months: start.adding(months: count)
        }
    }

    /// `"8 weeks"`, `"1 month"`, `"14 days"`.
    public var description: String {
        let name = count == 1 ? String(unit.rawValue.dropLast()) : unit.rawValue
        return "\(count) \(name)"
    }

    /// Parses `"<n> day(s)|week(s)|month(s)"`.
    public init?(text: String) {
        let parts = text.split(separator: " ")
        guard parts.count == 2, let n = Int(parts[0]), n >= 0, n <= 1200 else { return nil }
        switch parts[1] {
        case "day", "days": unit = .days
        case "week", "weeks": unit = .weeks
        case "month", "months": unit = .months
        default: return nil
        }
        count = n
    }
}

/// The periods of the deviation rules: the municipality's choice where the law
/// gives no number. Defaults are docs/RULES.md's; a store's `config.json` changes them.
public struct DeviationConfig: Hashable, Sendable {
    public var periods: [DeviationRule: Period]
    /// The municipality's units, when `config.json` lists them (`units`): an
    /// application or a coordinator's registration must name one of them.
    public var units: [String]?

    public init(periods: [DeviationRule: Period], units: [String]? = nil) {
        self.periods = periods
        self.units = units
    }

    /// The defaults of docs/RULES.md.
    public static let defaults = DeviationConfig(periods: [
        .preliminaryReplyMissing: Period(1, .months),   // forvaltningsloven §11a
        .decisionOverdue: Period(8, .weeks),
        .appealOverdue: Period(4, .weeks),
        .coordinatorNotAppointed: Period(14, .days),
        .coordinatorMissing: Period(14, .days),
        .coordinatorUntrained: Period(3, .months),
        .planNotEstablished: Period(8, .weeks),
        .planIncomplete: Period(30, .days),
        .meetingOverdue: Period(6, .months),
        .minutesMissing: Period(7, .days),
    ])

    /// The rules with a period (the others open at once or at a date the case sets).
    public static var configurable: [DeviationRule] {
        DeviationRule.allCases.filter { defaults.periods[$0] != nil }
    }

    /// The file in a store that changes the periods.
    public static func path(store: String) -> String { store + "/config.json" }

    /// The store's configuration: the defaults, changed by `config.json` when there is one.
    /// - Throws: ``LogError`` `.invalidShape` naming the key when the file is malformed.
    public static func load(store: String) throws -> DeviationConfig {
        guard let data = FileManager.default.contents(atPath: path(store: store)) else { return defaults }
        let json: JSONValue
        do { json = try JSONParser.parse(Array(data)) } catch {
            throw LogError(.invalidShape, "config.json: malformed JSON: \(error)")
        }
        var config = defaults
        if let units = json["units"] {
            guard case .array(let items) = units, !items.isEmpty else { throw LogError(.invalidShape, "config.json: field units: a list of the municipality's units expected") }
            var names: [String] = []
            for (i, item) in items.enumerated() {
                guard let name = item.stringValue, !name.trimmingCharacters(in: .whitespaces).isEmpty, !names.contains(name) else {
                    throw LogError(.invalidShape, "config.json: field units[\(i)]: a unit's name expected, each once")
                }
                names.append(name)
            }
            config.units = names
        }
        guard let deviations = json["deviations"] else { return config }
        guard case .object(let members) = deviations else {
            throw LogError(.invalidShape, "config.json: field deviations: an object expected")
        }
        for member in members {
            guard let rule = DeviationRule(rawValue: member.key), defaults.periods[rule] != nil else {
                throw LogError(.invalidShape, "config.json: field deviations.\(member.key): not a rule with a period (\(configurable.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let text = member.value.stringValue, let period = Period(text: text) else {
                throw LogError(.invalidShape, "config.json: field deviations.\(member.key): a period such as \"8 weeks\", \"1 month\" or \"14 days\" expected")
            }
            config.periods[rule] = period
        }
        return config
    }

    /// The configuration as `config.json` holds it.
    public var json: JSONValue {
        var members: [JSONValue.Member] = [.init("deviations", .object(Self.configurable.map { .init($0.rawValue, .string(periods[$0]!.description)) }))]
        if let units { members.append(.init("units", .array(units.map(JSONValue.string)))) }
        return .object(members)
    }
}
