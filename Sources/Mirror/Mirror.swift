import Application
import EventLog
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `iplog mirror`: copies a store's log and read models into PostgreSQL tables
/// and keeps them current (docs/SCALE.md).
///
/// A pass (``pass()``) first copies the events after the checkpoint, in
/// transactions of ``Options/batch`` events, each with the checkpoint's new
/// position; then, in one transaction, it replaces the rows of every case those
/// events touched (cases, appointments, deviations), the coordinators'
/// workload as of today, and the read models' checkpoint. So a mirror killed at
/// any moment resumes from what PostgreSQL committed, with nothing missing and
/// nothing twice; the read models' rows lag the events by at most one pass.
///
/// Personal values never leave the store: an event's data has them as null,
/// and a case names its person only by the store's pseudonym (an HMAC under a
/// secret kept in the store), which an erasure removes at the next pass.
public final class Mirror {
    public struct Options: Sendable {
        public var target: PostgresTarget
        public var schema: String
        /// Events per transaction while catching up.
        public var batch: Int
        /// The day the workload is reported as of (nil: today, read at each pass).
        public var asOf: BusinessDate?
        /// A remote service whose log is copied into the store first (which is then its standby).
        public var source: RemoteSource?

        public init(target: PostgresTarget, schema: String = "iplog", batch: Int = 20_000, asOf: BusinessDate? = nil,
                    source: RemoteSource? = nil) throws(MirrorError) {
            guard schema.utf8.count <= 63, let first = schema.unicodeScalars.first, first == "_" || ("a"..."z").contains(first),
                  schema.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
                throw MirrorError(.badInput, "--schema: lowercase letters, digits and _, starting with a letter or _, at most 63")
            }
            guard (1...1_000_000).contains(batch) else { throw MirrorError(.badInput, "--batch: 1 to 1000000 events") }
            self.target = target
            self.schema = schema
            self.batch = batch
            self.asOf = asOf
            self.source = source
        }
    }

    /// What a pass did.
    public struct PassResult: Sendable, Hashable {
        /// Events copied.
        public var events: Int
        /// Cases whose rows were written.
        public var cases: Int
        /// The checkpoint after it.
        public var position: UInt64
        /// Cases whose pseudonym an erasure removed.
        public var erased: Int
    }

    public let options: Options
    private var rows: MirrorRows
    /// The standby's appends, when the log comes from a remote service.
    private let standby: Appends?
    private let logger: Logger
    private var connection: PostgresConnection?
    /// The key file's identity at the last erasure check.
    private var keysSeen: FileIdentity?

    /// A mirror of the store at `storePath` (which must exist) into
    /// `options.target`; with `options.source`, the store is the remote
    /// service's standby (made when missing).
    public init(storePath: String, options: Options, warn: @escaping @Sendable (String) -> Void) throws {
        self.options = options
        let context: ReportContext
        if let source = options.source {
            let log = try source.openStandby(storePath)
            context = try ReportContext(log: log, storePath: storePath, catchUp: false, warn: warn)
            standby = try Appends(store: log, storePath: storePath)
        } else {
            context = try ReportContext(storePath: storePath, catchUp: false, warn: warn)
            standby = nil
        }
        rows = MirrorRows(context: context)
        var logger = Logger(label: "iplog-mirror")
        logger.logLevel = .critical  // PostgresNIO's own lines would carry statements; our messages say what happened
        self.logger = logger
    }

    deinit {
        if let connection { connection.close().whenComplete { _ in } }
    }

    // MARK: Connection and schema

    /// Connects (if not connected), creates the schema and applies the migrations it lacks.
    public func connect() async throws {
        if let connection, !connection.isClosed { return }
        connection = nil
        let target = options.target.redacted
        do {
            let c = try await PostgresConnection.connect(configuration: options.target.configuration, id: 1, logger: logger)
            connection = c
            try await c.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(options.schema)\""), logger: logger)
            try await c.query(PostgresQuery(unsafeSQL: "SET search_path TO \"\(options.schema)\""), logger: logger)
            try await c.query("SET synchronous_commit TO on", logger: logger)
            try await migrate(c)
            // One writer a schema: held while this connection lasts, gone with it (also when killed).
            let locked = try await c.query("SELECT pg_try_advisory_lock(hashtext(\("iplog-mirror-writer:" + options.schema)))", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            if !locked {
                throw MirrorError(.busy, "another iplog mirror is writing schema \(options.schema) in \(target); one at a time")
            }
        } catch {
            if let c = connection { try? await c.close() }
            connection = nil
            throw MirrorError.from(error, target: target)
        }
    }

    /// Closes the connection.
    public func close() async {
        if let c = connection { try? await c.close() }
        connection = nil
    }

    private func migrate(_ c: PostgresConnection) async throws {
        try await c.query("""
            CREATE TABLE IF NOT EXISTS iplog_migrations (
                version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        let schema = options.schema
        try await c.withTransaction(logger: logger) { c in
            // Two mirrors starting at once: one applies, the other waits and finds them applied.
            try await c.query("SELECT pg_advisory_xact_lock(hashtext(\("iplog-mirror:" + schema)))", logger: logger)
            var applied: Set<Int> = []
            for try await version in try await c.query("SELECT version FROM iplog_migrations", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for migration in Migrations.all where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await c.query("INSERT INTO iplog_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            }
        }
    }

    // MARK: A pass

    struct Checkpoint {
        var position: UInt64 = 0
        var readModelsPosition: UInt64 = 0
        var asOf: BusinessDate?
        var periods: String?
        var exists = false
        /// The hash of the log's first event: which store the schema mirrors.
        var firstHash: String?
    }

    private func checkpoint(_ c: PostgresConnection) async throws -> Checkpoint {
        let firstHash = try rows.log.read(from: 1, limit: 1).first?.hashHex
        var cp = Checkpoint(firstHash: firstHash)
        for try await (position, readModels, asOf, hash, periods) in try await c.query(
            "SELECT position, read_models_position, read_models_as_of::text, first_hash, deviation_periods FROM checkpoint", logger: logger
        ).decode((Int64, Int64, String?, String, String?).self) {
            cp = Checkpoint(position: UInt64(position), readModelsPosition: UInt64(readModels), asOf: asOf.flatMap { BusinessDate(iso: $0) },
                            periods: periods, exists: true, firstHash: firstHash)
            if let firstHash, hash != firstHash {
                throw MirrorError(.otherStore, "schema \(options.schema) mirrors another store (its first event differs); give another --schema, or drop that schema")
            }
        }
        let head = try rows.log.head().position
        if cp.position > head {
            throw MirrorError(.otherStore, "schema \(options.schema) holds events up to position \(cp.position), but this store's log ends at \(head): a store restored from an older backup, or another store; give another --schema, or drop that schema")
        }
        return cp
    }

    /// Copies what is new: the events after the checkpoint, then the read
    /// models' rows of the cases they touched, and erasures.
    public func pass() async throws -> PassResult {
        if let source = options.source, let standby {
            do {
                _ = try await source.pull(into: rows.log, appends: standby)
            } catch {
                throw error as? MirrorError ?? MirrorError(.failed, "\(source.url): \(ErrorReport(error).message)")
            }
        }
        try await connect()
        guard let c = connection else { throw MirrorError(.unreachable, "not connected") }
        do {
            return try await pass(c)
        } catch {
            let failure = MirrorError.from(error, target: options.target.redacted)
            if failure.isTransient { await close() }
            throw failure
        }
    }

    private func pass(_ c: PostgresConnection) async throws -> PassResult {
        var cp = try await checkpoint(c)
        let context = rows.context
        try context.catchUp()
        let reached = try rows.readModelsPosition()
        var result = PassResult(events: 0, cases: 0, position: cp.position, erased: 0)
        let logger = logger

        // 1. The events, in batches, each with the checkpoint. The next batch
        // is read and encoded while PostgreSQL takes the one before.
        let log = rows.log, batch = options.batch
        func encode(after position: UInt64) -> Task<(text: CopyText, last: UInt64?), any Error>? {
            guard position < reached else { return nil }
            let limit = min(batch, Int(reached - position))
            return Task.detached { try MirrorRows.events(log, from: position + 1, limit: limit) }
        }
        var next = encode(after: cp.position)
        defer { next?.cancel() }
        while let pending = next {
            let (text, last) = try await pending.value
            next = nil
            guard let last else { break }
            next = encode(after: last)
            let exists = cp.exists, firstHash = cp.firstHash ?? ""
            try await c.withTransaction(logger: logger) { c in
                try await c.copyFrom(table: "events", columns: MirrorRows.eventColumns, logger: logger) { writer in
                    try await writer.write(ByteBuffer(bytes: text.bytes))
                }
                if exists {
                    try await c.query("UPDATE checkpoint SET position = \(Int64(last)), updated_at = now()", logger: logger)
                } else {
                    try await c.query("INSERT INTO checkpoint (position, first_hash) VALUES (\(Int64(last)), \(firstHash))", logger: logger)
                }
            }
            FaultPoint.reach("mirror.afterEventBatch")
            cp.exists = true
            result.events += text.rows
            cp.position = last
        }
        result.position = cp.position

        // 2. The read models' rows of every case touched since they were last written.
        let today = options.asOf ?? BusinessDate.today()
        let periods = rows.periods
        if cp.exists, cp.readModelsPosition < cp.position || cp.asOf != today || cp.periods != periods {
            let cases: [String]
            if cp.periods != periods {
                // Other periods in config.json (or none recorded yet): every
                // interval's `since` moves, so every case's rows are made again.
                cases = try rows.allCases()
            } else {
                var touched: Set<String> = []
                for try await stream in try await c.query(
                    "SELECT DISTINCT stream FROM events WHERE position > \(Int64(cp.readModelsPosition)) AND position <= \(Int64(cp.position))",
                    logger: logger
                ).decode(String.self) {
                    touched.insert(stream)
                }
                cases = try rows.casesAffected(by: touched).sorted()
            }
            let caseRows = try rows.caseRows(cases)
            let workload = try rows.workloadRows(asOf: today)
            let position = cp.position
            try await c.withTransaction(logger: logger) { c in
                if !cases.isEmpty {
                    for table in ["cases", "appointments", "deviations"] {
                        try await c.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE stream = ANY($1)", binds: Self.binds(cases)), logger: logger)
                    }
                    try await Self.copy(c, "cases", MirrorRows.caseColumns, caseRows.cases, logger)
                    try await Self.copy(c, "appointments", MirrorRows.appointmentColumns, caseRows.appointments, logger)
                    try await Self.copy(c, "deviations", MirrorRows.deviationColumns, caseRows.deviations, logger)
                }
                try await c.query("DELETE FROM coordinator_workload", logger: logger)
                try await Self.copy(c, "coordinator_workload", MirrorRows.workloadColumns, workload, logger)
                try await c.query("""
                    UPDATE checkpoint SET read_models_position = \(Int64(position)), read_models_as_of = \(today.description)::date,
                        deviation_periods = \(periods), updated_at = now()
                    """, logger: logger)
            }
            FaultPoint.reach("mirror.afterReadModels")
            result.cases = caseRows.cases.rows
        }

        // 3. Erasures: a person erased in the store loses their pseudonym here.
        let keys = FileIdentity(path: rows.log.directory + "/keys/person.keys")
        if keys != keysSeen {
            let erased = try rows.erasedCases()
            if !erased.isEmpty {
                let updated = try await c.query(PostgresQuery(
                    unsafeSQL: "UPDATE cases SET person = NULL WHERE person IS NOT NULL AND stream = ANY($1) RETURNING stream",
                    binds: Self.binds(erased)), logger: logger).collect()
                result.erased = updated.count
            }
            keysSeen = keys
        }
        return result
    }

    private static func binds(_ streams: [String]) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(streams)
        return binds
    }

    private static func copy(_ c: PostgresConnection, _ table: String, _ columns: [String], _ text: CopyText, _ logger: Logger) async throws {
        guard text.rows > 0 else { return }
        try await c.copyFrom(table: table, columns: columns, logger: logger) { writer in
            try await writer.write(ByteBuffer(bytes: text.bytes))
        }
    }

    /// A value as a COPY text field.
    public static func copyField(_ value: String) -> String {
        var text = CopyText()
        text.field(value)
        return String(decoding: text.bytes, as: UTF8.self)
    }

    // MARK: Following

    /// Passes until `shouldStop`, waiting for new commits between them (within
    /// a second). When PostgreSQL goes away, says so through `report` and
    /// retries with backoff (1 s doubling to 30 s) until it is back; other
    /// errors end the follow.
    public func follow(shouldStop: @escaping @Sendable () -> Bool, report: @escaping @Sendable (String) -> Void,
                       afterPass: (PassResult) -> Void = { _ in }) async throws {
        var delay = 1.0
        var failing = false
        let follower = LogFollower(store: rows.log, after: 0)
        while !shouldStop() {
            do {
                let result = try await pass()
                follower.skip(to: result.position)
                if failing { report("iplog mirror: \(options.target.redacted) is back; resumed at position \(result.position)") }
                failing = false
                delay = 1
                afterPass(result)
            } catch let error as MirrorError where error.isTransient {
                report("iplog mirror: \(error); retrying in \(Int(delay)) s")
                failing = true
                var waited = 0.0
                while waited < delay && !shouldStop() {
                    try await Task.sleep(nanoseconds: 100_000_000)
                    waited += 0.1
                }
                delay = min(delay * 2, 30)
                continue
            }
            // Wait for a commit (inotify on the log), at most a second, then pass again.
            var waited = 0
            while waited < 1000 && !shouldStop() {
                if try follower.waitForEvents(timeoutMilliseconds: 100) { break }
                waited += 100
            }
        }
    }
}
