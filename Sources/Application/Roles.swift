import Domain
import EventLog
import Foundation
import JSON

/// The roles of the service (docs/SERVICE.md, "Roles").
public enum Role: String, CaseIterable, Sendable, Hashable, Codable {
    case caseOffice, coordinatingUnit, coordinator, unitManager, auditor, integration
}

/// Who is asking: the name recorded as the actor of what they append and in
/// the access log for what they read, and what they may do.
///
/// A command-line caller is the store's operator (`role` nil): file
/// permissions stand between them and the store, and they may do everything.
/// A caller of the service has a role, and a scope where the role has one.
public struct Caller: Sendable, Hashable {
    public var name: String
    /// Nil: the store's operator on the command line.
    public var role: Role?
    /// A unit manager's unit.
    public var unit: String?
    /// A coordinator's id (`0042` of `coordinator-0042`).
    public var coordinatorId: String?

    public init(name: String, role: Role?, unit: String? = nil, coordinatorId: String? = nil) {
        self.name = name
        self.role = role
        self.unit = unit
        self.coordinatorId = coordinatorId
    }

    /// The operator of the store's files (the CLI).
    public static func storeOperator(_ name: String) -> Caller { Caller(name: name, role: nil) }
}

/// What each role may read (docs/SERVICE.md's table; DOMAIN's "In the service").
public enum ReadKind: String, Sendable, CaseIterable {
    /// One case's status (`/v1/cases/{stream}`).
    case caseStatus
    /// One stream's audit replay (`/v1/streams/{stream}`).
    case history
    /// The case list.
    case caseList
    /// The deviation report.
    case deviations
    /// The coordinator workload.
    case workload
    /// The access log.
    case accessLog
    /// The log from a position (`/v1/events`).
    case events
}

/// Who may append which event types and read what: the defaults of the role
/// table, with `config.json`'s `"roles": {"ROLE": {"append": [TYPE, …]}}`
/// replacing a role's list of types (the scopes do not move).
public struct AccessRules: Sendable, Hashable {
    /// The event types each role may append.
    public var append: [Role: Set<String>]

    public static let defaults = AccessRules(append: [
        .caseOffice: [
            "ApplicationReceived", "PreliminaryReplySent", "AssessmentCompleted", "ConsentGiven", "ConsentWithdrawn", "DecisionMade",
            "DecisionSent", "AppealReceived", "AppealForwarded", "AppealDecided", "PlanClosed", "DeviationReported",
        ],
        .coordinatingUnit: Set(["CoordinatorAppointed", "CoordinatorReleased", "DeviationReported", "DeviationResolved", "PlanClosed"]
            + DomainEvent.coordinatorTypes),
        .coordinator: [
            "ConsentGiven", "ConsentWithdrawn", "GroupMemberAdded", "GroupMemberRemoved", "MeetingScheduled", "MeetingHeld",
            "MinutesWritten", "MeetingCancelled", "ActionItemCompleted", "PlanEstablished", "GoalAdded", "GoalAchieved",
            "MeasureAdded", "PlanEvaluated", "TransitionPlanned", "DeviationReported", "PlanClosed",
        ],
        .unitManager: ["DeviationReported", "DeviationResolved"],
        .auditor: [],
        .integration: Set(DomainEvent.allTypes),
    ])

    /// What each role may read at all (within its scope).
    public static let reads: [Role: Set<ReadKind>] = [
        .caseOffice: [.caseStatus, .history, .caseList, .deviations],
        .coordinatingUnit: [.caseStatus, .history, .caseList, .deviations, .workload, .accessLog],
        .coordinator: [.caseStatus, .history, .caseList, .deviations, .workload],
        .unitManager: [.caseList, .deviations, .workload],
        .auditor: [.caseStatus, .history, .accessLog],
        .integration: [.events],
    ]

    /// Roles that may see person ids in full when they ask (`showPersonId=true`).
    public static let seePersonIds: Set<Role> = [.caseOffice, .coordinatingUnit, .coordinator, .auditor]

    /// The store's rules: the defaults, with `config.json`'s `roles` when it has them.
    /// - Throws: ``LogError`` `.invalidShape` naming the field when they are malformed.
    public static func load(store: String) throws -> AccessRules {
        guard let json = try ServiceConfig.configJSON(store: store), let roles = json["roles"] else { return defaults }
        guard case .object(let members) = roles else { throw LogError(.invalidShape, "config.json: field roles: an object of roles expected") }
        var rules = defaults
        for member in members {
            guard let role = Role(rawValue: member.key) else {
                throw LogError(.invalidShape, "config.json: field roles.\(member.key): not a role (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard case .object(let fields) = member.value, fields.allSatisfy({ $0.key == "append" }),
                  case .array(let items)? = member.value["append"] else {
                throw LogError(.invalidShape, "config.json: field roles.\(member.key): {\"append\": [event types]} expected")
            }
            var types: Set<String> = []
            for (i, item) in items.enumerated() {
                guard let type = item.stringValue, DomainEvent.allTypes.contains(type) else {
                    throw LogError(.invalidShape, "config.json: field roles.\(member.key).append[\(i)]: not an event type (`iplog types` lists them)")
                }
                types.insert(type)
            }
            rules.append[role] = types
        }
        return rules
    }

    /// Refuses (403) a caller whose role may not append `type`.
    public func checkAppend(_ type: String, by caller: Caller) throws {
        guard let role = caller.role else { return }
        guard append[role, default: []].contains(type) else {
            throw AccessDenied.forbidden("the role \(role.rawValue) may not append \(type)")
        }
    }

    /// Refuses (404, as for a case that does not exist) an append to a case
    /// outside the caller's scope: a coordinator's cases are those where they
    /// are the active coordinator, a unit manager's those of their unit. Run
    /// inside the write transaction, against the case as it stands there.
    public static func checkAppendScope(_ stream: String, state: CaseState?, by caller: Caller) throws {
        switch caller.role {
        case .coordinator?:
            guard let state, let id = caller.coordinatorId, state.activeCoordinator == id else { throw AccessDenied.noCase(stream) }
        case .unitManager?:
            guard let state, let unit = caller.unit, state.unit == unit else { throw AccessDenied.noCase(stream) }
        default:
            return
        }
    }

    /// Refuses (403) a caller whose role may not read `kind` at all.
    public static func checkRead(_ kind: ReadKind, by caller: Caller) throws {
        guard let role = caller.role else { return }
        guard reads[role, default: []].contains(kind) else {
            throw AccessDenied.forbidden("the role \(role.rawValue) may not read \(kind.rawValue)")
        }
    }

    /// Refuses (403) `showPersonId` for a role that may not see person ids.
    public static func checkShowPersonId(_ show: Bool, by caller: Caller) throws {
        guard show, let role = caller.role, !seePersonIds.contains(role) else { return }
        throw AccessDenied.forbidden("the role \(role.rawValue) may not see person ids")
    }

    /// Whether a case (as its status read model has it) is within the caller's read scope.
    public static func mayRead(case state: CaseState, by caller: Caller) -> Bool {
        switch caller.role {
        case .coordinator?: return caller.coordinatorId != nil && state.activeCoordinator == caller.coordinatorId
        case .unitManager?: return caller.unit != nil && state.unit == caller.unit
        case .integration?: return false
        default: return true
        }
    }
}

/// The service's part of `config.json`: the OIDC claims.
public struct ServiceConfig: Sendable, Hashable {
    /// The claims of an OpenID Connect token that carry the role, the unit and the coordinator id.
    public var roleClaim = "role"
    public var unitClaim = "unit"
    public var coordinatorClaim = "coordinatorId"
    /// A tenant's own identity provider (`iplog serve --tenants`): its issuer,
    /// the audience its tokens name, and its keys (a JWKS file, relative to the store).
    public var issuer: String?
    public var audience: String?
    public var jwks: String?

    public init() {}

    /// How the person and the group reach the coordinating unit, as the plan
    /// document prints it (`config.json`: `"contact": "Koordinerende enhet, tlf. …"`).
    public static func contact(store: String) throws -> String? {
        guard let value = try configJSON(store: store)?["contact"] else { return nil }
        guard let text = value.stringValue, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LogError(.invalidShape, "config.json: field contact: how to reach the coordinating unit, as text, expected")
        }
        return text
    }

    /// `config.json` of the store, or nil when there is none.
    static func configJSON(store: String) throws -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: store + "/config.json") else { return nil }
        do { return try JSONParser.parse(Array(data)) } catch {
            throw LogError(.invalidShape, "config.json: malformed JSON: \(error)")
        }
    }

    /// The store's: the defaults, with `config.json`'s `oidc` claims.
    public static func load(store: String) throws -> ServiceConfig {
        var config = ServiceConfig()
        guard let json = try configJSON(store: store), let oidc = json["oidc"] else { return config }
        guard case .object(let members) = oidc else { throw LogError(.invalidShape, "config.json: field oidc: an object expected") }
        for member in members {
            guard let value = member.value.stringValue, !value.isEmpty else {
                throw LogError(.invalidShape, "config.json: field oidc.\(member.key): a claim's name expected")
            }
            switch member.key {
            case "roleClaim": config.roleClaim = value
            case "unitClaim": config.unitClaim = value
            case "coordinatorClaim": config.coordinatorClaim = value
            case "issuer": config.issuer = value
            case "audience": config.audience = value
            case "jwks": config.jwks = value
            default: throw LogError(.invalidShape, "config.json: field oidc.\(member.key): not a setting (roleClaim, unitClaim, coordinatorClaim, issuer, audience, jwks)")
            }
        }
        let provider = [config.issuer, config.audience, config.jwks].compactMap { $0 }.count
        if provider != 0 && provider != 3 {
            throw LogError(.invalidShape, "config.json: field oidc: give issuer, audience and jwks together, or none")
        }
        return config
    }
}
