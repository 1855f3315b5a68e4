/// The mirror's tables, as versioned migrations the mirror applies itself
/// (each once, in order, in one transaction with its record in
/// `iplog_migrations`). Never edit a migration that has shipped: add the next.
///
/// Every table lives in the mirror's schema (`--schema`, default `iplog`), so
/// that many stores (municipalities) can share one database.
public enum Migrations {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var statements: [String]
    }

    public static let all: [Migration] = [
        Migration(version: 1, name: "the log, the three read models and the checkpoint", statements: [
            """
            CREATE TABLE checkpoint (
                only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                position bigint NOT NULL,
                first_hash text NOT NULL,
                read_models_position bigint NOT NULL DEFAULT 0,
                read_models_as_of date,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            COMMENT ON TABLE checkpoint IS 'How far the mirror has copied: position for events, read_models_position for cases, appointments, deviations and coordinator_workload (as of read_models_as_of). Each is written in the same transaction as the rows it covers.'
            """,
            """
            CREATE TABLE events (
                position bigint PRIMARY KEY,
                stream text NOT NULL,
                version bigint NOT NULL,
                type text NOT NULL,
                schema_version integer NOT NULL,
                occurred_on date NOT NULL,
                recorded_at timestamptz NOT NULL,
                actor text,
                event_id uuid NOT NULL,
                data jsonb NOT NULL,
                UNIQUE (stream, version)
            )
            """,
            """
            COMMENT ON COLUMN events.data IS 'The payload; personal values (person ids, names, free text) are null: they never leave the store.'
            """,
            "CREATE INDEX events_type_occurred_on ON events (type, occurred_on)",
            """
            CREATE TABLE cases (
                stream text PRIMARY KEY,
                status text,
                person text,
                unit text,
                coordinator_id text,
                received_on date,
                assessed_on date,
                decided_on date,
                plan_established_on date,
                closed_on date,
                last_event_on date,
                appeal_late boolean NOT NULL,
                version bigint NOT NULL,
                facts jsonb NOT NULL
            )
            """,
            """
            COMMENT ON COLUMN cases.person IS 'A pseudonym of the person (HMAC-SHA256 under the store''s secret); null once the person is erased.'
            """,
            "CREATE INDEX cases_unit_status ON cases (unit, status)",
            "CREATE INDEX cases_person ON cases (person)",
            """
            CREATE TABLE appointments (
                stream text NOT NULL,
                seq integer NOT NULL,
                coordinator_id text NOT NULL,
                appointed_on date NOT NULL,
                released_on date,
                PRIMARY KEY (stream, seq)
            )
            """,
            "CREATE INDEX appointments_coordinator ON appointments (coordinator_id)",
            """
            CREATE TABLE deviations (
                stream text NOT NULL,
                seq integer NOT NULL,
                rule text NOT NULL,
                ref text,
                since date NOT NULL,
                ended_on date,
                coordinator_id text,
                unit text,
                PRIMARY KEY (stream, seq)
            )
            """,
            """
            COMMENT ON TABLE deviations IS 'One row per deviation interval (fristbrudd): open from since, through the day before ended_on (null: still open). A row whose since lies ahead is a deadline not yet passed. coordinator_id: the coordinator on the day it opened; for the coordinator on another day join appointments.'
            """,
            "CREATE INDEX deviations_unit_rule_since ON deviations (unit, rule, since)",
            """
            CREATE TABLE coordinator_workload (
                coordinator_id text PRIMARY KEY,
                unit text NOT NULL,
                as_of date NOT NULL,
                active_cases integer NOT NULL,
                trained boolean NOT NULL,
                deactivated boolean NOT NULL,
                meetings_last_90_days integer NOT NULL,
                meetings_scheduled_ahead integer NOT NULL,
                open_deviations integer NOT NULL
            )
            """,
            """
            COMMENT ON TABLE coordinator_workload IS 'iplog workload as of as_of (the day of the mirror''s last pass).'
            """,
        ]),
        Migration(version: 2, name: "the deviation periods the rows were made with", statements: [
            "ALTER TABLE checkpoint ADD COLUMN deviation_periods text",
            """
            COMMENT ON COLUMN checkpoint.deviation_periods IS 'The periods of config.json the deviations rows were resolved with: when the store''s periods change, every case''s rows are made again.'
            """,
        ]),
    ]
}
