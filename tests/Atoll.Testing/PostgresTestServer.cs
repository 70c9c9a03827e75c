using Npgsql;

namespace Atoll.Testing;

/// <summary>
/// The PostgreSQL that tests use, named by <c>ATOLL_TEST_POSTGRES</c> (a <c>postgres://</c> URL whose user may
/// create databases). Each test gets its own database, created here and dropped after.
/// </summary>
public static class PostgresTestServer
{
    public const string EnvironmentVariable = "ATOLL_TEST_POSTGRES";

    public const string NotSetMessage =
        "ATOLL_TEST_POSTGRES is not set: run ./test.sh, or start PostgreSQL with scripts/test-services.sh start DIR";

    /// <summary>The configured server URL; throws with <see cref="NotSetMessage"/> when unset, so PostgreSQL tests fail instead of passing silently.</summary>
    public static Uri Url
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException(NotSetMessage);
            }
            return Uri.TryCreate(value.Trim(), UriKind.Absolute, out var url)
                ? url
                : throw new InvalidOperationException($"{EnvironmentVariable} is not a postgres:// URL");
        }
    }

    /// <summary>Creates an empty database and returns its store URL (postgres://…/name).</summary>
    public static async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        var server = Url;
        await ExecuteAsync(server, $"CREATE DATABASE \"{name}\" TEMPLATE template0", ct);
        var builder = new UriBuilder(server) { Path = "/" + name };
        return builder.Uri.GetComponents(UriComponents.AbsoluteUri, UriFormat.UriEscaped);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing whatever still uses it.</summary>
    public static Task DropDatabaseAsync(string name, CancellationToken ct = default) =>
        ExecuteAsync(Url, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", ct);

    private static async Task ExecuteAsync(Uri server, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(server));
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string ConnectionString(Uri server)
    {
        var userInfo = server.UserInfo.Split(':', 2);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = server.DnsSafeHost,
            Port = server.Port > 0 ? server.Port : 5432,
            Database = Uri.UnescapeDataString(server.AbsolutePath.Trim('/')),
            Username = Uri.UnescapeDataString(userInfo[0]),
            Timeout = 5,
            // Admin connections come and go per test; pooling them would keep idle sessions on the server.
            Pooling = false,
        };
        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }
        return builder.ConnectionString;
    }
}
