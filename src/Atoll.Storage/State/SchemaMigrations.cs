namespace Atoll.Storage.State;

/// <summary>
/// The schema, as numbered forward-only steps. Never edit a released step: add the next one.
/// The SQL is common to SQLite and PostgreSQL: times are BIGINT unix milliseconds, JSON is TEXT.
/// </summary>
internal static class SchemaMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "initial schema",
        [
            """
            CREATE TABLE admin_tokens (
                id TEXT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE join_tokens (
                id TEXT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                uses_left INTEGER NOT NULL,
                expires_at BIGINT NOT NULL,
                pool TEXT NULL,
                description TEXT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE nodes (
                name TEXT PRIMARY KEY,
                provider TEXT NOT NULL,
                region TEXT NOT NULL,
                location TEXT NULL,
                instance_type TEXT NULL,
                capacity_type TEXT NOT NULL,
                pool TEXT NULL,
                labels_json TEXT NOT NULL,
                gpu_json TEXT NOT NULL,
                models_json TEXT NOT NULL,
                conditions_json TEXT NOT NULL,
                registered_at BIGINT NOT NULL,
                last_heartbeat_at BIGINT NOT NULL,
                agent_version TEXT NULL
            )
            """,
            """
            CREATE TABLE node_credentials (
                token_hash TEXT PRIMARY KEY,
                node_name TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX ix_node_credentials_node_name ON node_credentials (node_name)",
        ]),
        new(2, "gateway API keys",
        [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                key_hash TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                rpm INTEGER NULL,
                tpm INTEGER NULL,
                created_at BIGINT NOT NULL
            )
            """,
        ]),
        new(3, "files, batches and the chunk queue",
        [
            """
            CREATE TABLE files (
                id TEXT PRIMARY KEY,
                filename TEXT NOT NULL,
                purpose TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                object_key TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE batches (
                id TEXT PRIMARY KEY,
                endpoint TEXT NOT NULL,
                model TEXT NULL,
                input_file_id TEXT NOT NULL,
                completion_window TEXT NOT NULL,
                status TEXT NOT NULL,
                output_file_id TEXT NULL,
                error_file_id TEXT NULL,
                errors_json TEXT NULL,
                metadata_json TEXT NULL,
                total INTEGER NOT NULL,
                completed INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                in_progress_at BIGINT NULL,
                expires_at BIGINT NULL,
                finalizing_at BIGINT NULL,
                completed_at BIGINT NULL,
                failed_at BIGINT NULL,
                expired_at BIGINT NULL,
                cancelling_at BIGINT NULL,
                cancelled_at BIGINT NULL
            )
            """,
            "CREATE INDEX ix_batches_status ON batches (status)",
            """
            CREATE TABLE batch_chunks (
                batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                start_offset BIGINT NOT NULL,
                end_offset BIGINT NOT NULL,
                first_line INTEGER NOT NULL,
                line_count INTEGER NOT NULL,
                state TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                lease_token TEXT NULL,
                lease_expires_at BIGINT NULL,
                worker_node TEXT NULL,
                result_key TEXT NULL,
                succeeded INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                last_error TEXT NULL,
                PRIMARY KEY (batch_id, seq)
            )
            """,
            "CREATE INDEX ix_batch_chunks_state ON batch_chunks (state, lease_expires_at)",
        ]),
        new(4, "fleet resources and node claims",
        [
            """
            CREATE TABLE resources (
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                spec_json TEXT NOT NULL,
                labels_json TEXT NULL,
                status_json TEXT NULL,
                apply_set TEXT NULL,
                generation BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (kind, name)
            )
            """,
            """
            CREATE TABLE node_claims (
                name TEXT PRIMARY KEY,
                pool TEXT NOT NULL,
                phase TEXT NOT NULL,
                version BIGINT NOT NULL,
                data_json TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX ix_node_claims_pool_phase ON node_claims (pool, phase)",
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "ALTER TABLE join_tokens ADD COLUMN claim TEXT NULL",
            "ALTER TABLE nodes ADD COLUMN claim TEXT NULL",
        ]),
        new(5, "registration keys: a lost registration answer can be retried",
        [
            "ALTER TABLE nodes ADD COLUMN join_token_hash TEXT NULL",
            "ALTER TABLE nodes ADD COLUMN registration_key_hash TEXT NULL",
        ]),
        new(6, "API keys: a limit on requests in flight",
        [
            "ALTER TABLE api_keys ADD COLUMN max_concurrent INTEGER NULL",
        ]),
    ];
}
