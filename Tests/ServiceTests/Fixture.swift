import AccessLog
import Application
import Domain
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import Logging
import SampleData
import Service
import Testing

/// A store with two coordinators and two cases, and a user of every role:
///
/// - `case-000001`: unit Hjemmetjenesten, coordinator 0042 (the user `k42`);
/// - `case-000002`: unit Rehabilitering, coordinator 0043.
final class ServiceFixture: @unchecked Sendable {
    let directory: String
    var store: String { directory + "/store" }
    /// The token of each role's user.
    var tokens: [Role: String] = [:]
    /// The user name of each role.
    static let names: [Role: String] = [
        .caseOffice: "kontor", .coordinatingUnit: "enhet", .coordinator: "k42", .unitManager: "leder", .auditor: "revisor", .integration: "system",
    ]
    static let adult = person(5000)
    static let other = person(5001)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("iplog-service-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = try EventStore(directory: store, create: true)
        let appends = try Appends(store: log, storePath: store)
        let setup = Caller.storeOperator("oppsett")
        for (id, unit) in [("0042", "Hjemmetjenesten"), ("0043", "Rehabilitering")] {
            _ = try appends.appendNow([
                try Self.event("coordinator-\(id)", "CoordinatorRegistered", #"{"coordinatorId":"\#(id)","name":"K \#(id)","unit":"\#(unit)","profession":"sykepleier","registeredOn":"2026-01-05"}"#),
                try Self.event("coordinator-\(id)", "CoordinatorTrained", #"{"trainedOn":"2026-01-10","course":"Koordinatoropplæring"}"#),
            ], caller: setup)
        }
        for (stream, person, unit, coordinator) in [("case-000001", Self.adult, "Hjemmetjenesten", "0042"), ("case-000002", Self.other, "Rehabilitering", "0043")] {
            _ = try appends.appendNow(Self.openCase(stream, person: person, unit: unit, coordinator: coordinator), caller: setup)
        }
        let users = Users(store: store)
        for role in Role.allCases {
            let (_, token) = try users.add(name: Self.names[role]!, role: role, unit: role == .unitManager ? "Hjemmetjenesten" : nil,
                                           coordinatorId: role == .coordinator ? "0042" : nil)
            tokens[role] = token
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The events of a case up to its coordinator's appointment, as a body for `POST /v1/streams/{stream}/events`.
    static func openCaseBody(person: String, unit: String = "Hjemmetjenesten", coordinator: String = "0042") throws -> String {
        JSONValue.array(try openCase("case-x", person: person, unit: unit, coordinator: coordinator).map { event in
            .object(["type": .string(event.type), "data": event.payload])
        }).jsonText
    }

    /// The events of a case up to its coordinator's appointment.
    static func openCase(_ stream: String, person: String, unit: String, coordinator: String) throws -> [ProposedEvent] {
        try [
            event(stream, "ApplicationReceived", #"{"personId":"\#(person)","receivedOn":"2026-02-02","requested":["individualPlan","coordinator"],"origin":"application","unit":"\#(unit)"}"#),
            event(stream, "AssessmentCompleted", #"{"completedOn":"2026-02-10","longTermNeed":true,"services":["hjemmesykepleie","fysioterapi"],"residesInMunicipality":true,"wantsIndividualPlan":true}"#),
            event(stream, "ConsentGiven", #"{"givenOn":"2026-02-10","scope":["individualPlan","coordinator","informationSharing"],"givenBy":"person"}"#),
            event(stream, "DecisionMade", #"{"decidedOn":"2026-02-20","individualPlan":"granted","coordinator":"granted","childCoordinator":"notRequested","grounds":"Langvarige og koordinerte tjenester","decidedBy":"saksbehandler"}"#),
            event(stream, "DecisionSent", #"{"sentOn":"2026-02-21","channel":"digital","appealInformationIncluded":true}"#),
            event(stream, "CoordinatorAppointed", #"{"coordinatorId":"\#(coordinator)","appointedOn":"2026-03-01"}"#),
        ]
    }

    /// An event as the CLI or a client would send it, checked by the catalogue.
    static func event(_ stream: String, _ type: String, _ data: String) throws -> ProposedEvent {
        let envelope = JSONValue.object(["stream": .string(stream), "type": .string(type), "data": try JSONParser.parse(Array(data.utf8))])
        return try ImportItem.parse(line: 1, Array(envelope.jsonText.utf8), today: .today())!.event.get()
    }

    /// Runs `test` against the service over this store on a free port, through real HTTP.
    func withService(oidc: OIDCSettings? = nil, bodySeconds: Int64 = 30, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var logger = Logger(label: "iplog-test")
        logger.logLevel = .error
        let app = try await IPLogService.application(ServeOptions(store: store, host: "127.0.0.1", port: 0, oidc: oidc, bodySeconds: bodySeconds), logger: logger)
        try await app.test(.live) { client in try await test(client) }
    }

    func headers(_ role: Role?) -> HTTPFields {
        guard let role else { return [:] }
        return [.authorization: "Bearer \(tokens[role]!)"]
    }

    /// The access log's reads of `person`, as the auditor reads them through the
    /// service (a second LMDB environment on the same files in this process,
    /// beside the service's own, is what LMDB forbids).
    func reads(of person: String, _ client: any TestClientProtocol) async throws -> [Read] {
        let response = try await client.execute(uri: "/v1/access-log?person=\(person)", method: .get, headers: headers(.auditor))
        return (response.json?["reads"]?.arrayValue ?? []).map { e in
            Read(actor: e["actor"]?.stringValue ?? "", command: e["command"]?.stringValue ?? "", reason: e["reason"]?.stringValue,
                 personIdsShown: e["personIdsShown"]?.boolValue)
        }
    }

    /// One entry of the access log, as the service answers it.
    struct Read {
        var actor: String
        var command: String
        var reason: String?
        var personIdsShown: Bool?
    }
}

extension TestResponse {
    var json: JSONValue? { try? JSONParser.parse(Array(buffer: body)) }
    var text: String { String(buffer: body) }
}

extension ByteBuffer {
    init(json: String) { self.init(string: json) }
}

/// A valid fødselsnummer, different for each `n`.
func person(_ n: Int = 0) -> String { syntheticPersonID(n) }
