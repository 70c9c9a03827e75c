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
    ];
}
