using Npgsql;

namespace Atoll.Storage.State;

/// <summary>Opens the state store named by a <c>--store</c> URL.</summary>
public static class StateStoreFactory
{
    /// <summary>The accepted forms of a store URL, for error messages and help text.</summary>
    public const string AcceptedForms =
        "'sqlite' (the default: <--data>/atoll.db), 'sqlite:///absolute/path.db', or " +
        "'postgres://user:password@host:port/database' (also postgresql://, optional ?sslmode=disable|allow|prefer|require|verify-ca|verify-full)";

    private const int PostgresConnectTimeoutSeconds = 15;

    /// <summary>
    /// Null, empty or "sqlite": SQLite at <c><paramref name="dataDir"/>/atoll.db</c>; <c>sqlite:///abs/path.db</c>;
    /// <c>postgres://user:pass@host:port/db[?sslmode=…]</c> or <c>postgresql://…</c>. The store is not contacted
    /// until its first use; call <see cref="IStateStore.MigrateAsync"/> before anything else.
    /// </summary>
    /// <exception cref="ArgumentException">The URL is none of the accepted forms.</exception>
    public static IStateStore Open(string? storeUrl, string dataDir) => new SqlStateStore(CreateDialect(storeUrl, dataDir));

    internal static IStateStore Open(string? storeUrl, string dataDir, IReadOnlyList<Migration> migrations) =>
        new SqlStateStore(CreateDialect(storeUrl, dataDir), migrations);

    internal static SqlDialect CreateDialect(string? storeUrl, string dataDir)
    {
        var url = storeUrl?.Trim();
        if (string.IsNullOrEmpty(url) || url.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return new SqliteDialect(Path.Combine(Path.GetFullPath(dataDir), "atoll.db"));
        }
        if (url.StartsWith("sqlite://", StringComparison.OrdinalIgnoreCase))
        {
            var path = Uri.UnescapeDataString(url["sqlite://".Length..]);
            if (!Path.IsPathFullyQualified(path))
            {
                throw Invalid(url, "the SQLite path must be absolute (three slashes: sqlite:///var/lib/atoll/atoll.db)");
            }
            return new SqliteDialect(path);
        }
        if (url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            var (settings, description) = ParsePostgres(url);
            return new PostgresDialect(settings, description);
        }
        throw Invalid(url, "unknown kind of store");
    }

    internal static (NpgsqlConnectionStringBuilder Settings, string Description) ParsePostgres(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw Invalid(url, "not a valid URL (percent-encode special characters in the user name and password)");
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw Invalid(url, "name one database after the host, as in postgres://user:password@host:5432/atoll");
        }

        var userInfo = uri.UserInfo;
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        var user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
        var password = colon < 0 ? null : Uri.UnescapeDataString(userInfo[(colon + 1)..]);

        var settings = new NpgsqlConnectionStringBuilder
        {
            Host = uri.DnsSafeHost,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            Timeout = PostgresConnectTimeoutSeconds,
        };
        if (user.Length > 0)
        {
            settings.Username = user;
        }
        if (password is not null)
        {
            settings.Password = password;
        }
        foreach (var (key, value) in ParseQuery(uri.Query))
        {
            if (!key.Equals("sslmode", StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(url, $"unsupported option '{key}' (only sslmode is accepted)");
            }
            settings.SslMode = value.ToLowerInvariant() switch
            {
                "disable" => SslMode.Disable,
                "allow" => SslMode.Allow,
                "prefer" => SslMode.Prefer,
                "require" => SslMode.Require,
                "verify-ca" => SslMode.VerifyCA,
                "verify-full" => SslMode.VerifyFull,
                _ => throw Invalid(url, $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
            };
        }

        var credentials = user.Length == 0 ? "" : Uri.EscapeDataString(user) + (password is null ? "" : ":***") + "@";
        var description = $"{uri.Scheme}://{credentials}{uri.Authority.Split('@')[^1]}/{Uri.EscapeDataString(database)}{uri.Query}";
        return (settings, description);
    }

    private static IEnumerable<(string Key, string Value)> ParseQuery(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            yield return equals < 0
                ? (Uri.UnescapeDataString(pair), "")
                : (Uri.UnescapeDataString(pair[..equals]), Uri.UnescapeDataString(pair[(equals + 1)..]));
        }
    }

    private static ArgumentException Invalid(string url, string why) =>
        new($"invalid --store '{Redact(url)}': {why}; accepted: {AcceptedForms}");

    // A malformed URL may still carry a password: keep only what precedes the user info.
    private static string Redact(string url)
    {
        var at = url.LastIndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme >= 0 && at > scheme ? url[..(scheme + 3)] + "***" + url[at..] : url;
    }
}
