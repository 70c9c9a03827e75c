using Xunit;

namespace Atoll.Testing;

/// <summary>The state store engines every store behaviour is tested on.</summary>
public static class StoreEngines
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>For <c>[MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]</c>.</summary>
    public static TheoryData<string> All => new() { Sqlite, Postgres };
}
