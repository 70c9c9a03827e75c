using Atoll.Storage.State;
using Npgsql;

namespace Atoll.Storage.Tests.State;

public sealed class StateStoreFactoryTests
{
    private static readonly string DataDir = Path.Combine(Path.GetTempPath(), "atoll-factory-test");

    [Theory]
    [InlineData("mysql://atoll:secret@db:3306/atoll")]
    [InlineData("sqlite://relative/atoll.db")]
    [InlineData("postgres://atoll:secret@db:5432")]
    [InlineData("postgres://atoll:secret@db:5432/atoll?pool=10")]
    [InlineData("postgres://atoll:secret@db:5432/atoll?sslmode=sometimes")]
    [InlineData("/var/lib/atoll/atoll.db")]
    public void Factory_rejects_a_bad_store_url_naming_the_accepted_forms_without_the_password(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => StateStoreFactory.Open(url, DataDir));

        Assert.Contains("'sqlite'", error.Message);
        Assert.Contains("sqlite:///absolute/path.db", error.Message);
        Assert.Contains("postgres://user:password@host:port/database", error.Message);
        Assert.DoesNotContain("secret", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sqlite")]
    public async Task Factory_defaults_to_sqlite_in_the_data_directory(string? url)
    {
        await using var store = StateStoreFactory.Open(url, DataDir);

        Assert.Equal("sqlite", store.Engine);
        Assert.Equal("sqlite://" + Path.Combine(DataDir, "atoll.db"), store.Description);
    }

    [Fact]
    public async Task Factory_accepts_an_absolute_sqlite_url()
    {
        await using var store = StateStoreFactory.Open("sqlite:///var/lib/atoll/state.db", DataDir);

        Assert.Equal(("sqlite", "sqlite:///var/lib/atoll/state.db"), (store.Engine, store.Description));
    }

    [Theory]
    [InlineData("postgres://")]
    [InlineData("postgresql://")]
    public async Task Factory_reads_postgres_urls_with_encoded_credentials_and_ssl_mode(string scheme)
    {
        var url = scheme + "us%40er:p%3As%2Fs@db.example:6432/atoll?sslmode=verify-full";

        var (settings, description) = StateStoreFactory.ParsePostgres(url);
        await using var store = StateStoreFactory.Open(url, DataDir);

        Assert.Equal(("db.example", 6432, "atoll", "us@er", "p:s/s", SslMode.VerifyFull),
            (settings.Host, settings.Port, settings.Database, settings.Username, settings.Password, settings.SslMode));
        Assert.Equal(15, settings.Timeout); // connect timeout: fails a black-holed host in seconds, yet survives a loaded machine
        Assert.Equal(scheme + "us%40er:***@db.example:6432/atoll?sslmode=verify-full", description);
        Assert.Equal(("postgres", description), (store.Engine, store.Description));
    }

    [Fact]
    public void Postgres_port_defaults_to_5432()
    {
        var (settings, _) = StateStoreFactory.ParsePostgres("postgres://atoll@db/atoll");

        Assert.Equal((5432, "atoll", null), (settings.Port, settings.Username, settings.Password));
    }

    [Fact]
    public async Task Unreachable_postgres_is_reported_with_its_address_and_without_the_password()
    {
        await using var store = StateStoreFactory.Open("postgres://atoll:hunter2@127.0.0.1:1/atoll", DataDir);

        var migrate = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.MigrateAsync(default));
        var ping = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.PingAsync(default));

        foreach (var error in new[] { migrate, ping })
        {
            Assert.StartsWith("cannot reach PostgreSQL at 127.0.0.1:1/atoll: ", error.Message);
            Assert.EndsWith("; check --store and that the database is running", error.Message);
            Assert.DoesNotContain("hunter2", error.Message);
        }
        Assert.DoesNotContain("hunter2", store.Description);
    }
}
