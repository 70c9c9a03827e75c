using System.Net;
using System.Net.Http.Json;
using Atoll.Testing;

namespace Atoll.Server.Tests.Api;

public sealed class ApiKeyEndpointsTests
{
    [Fact]
    public async Task A_key_name_that_a_url_cannot_carry_is_refused_and_a_valid_one_can_be_deleted_by_name()
    {
        await using var host = await ServerHost.StartAsync(StoreEngines.Sqlite);
        using var admin = host.Admin();

        foreach (var bad in new[] { "team/app", "with space", "", "-leading-dash", new string('a', 101) })
        {
            var detail = await Problem.DetailAsync(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = bad }), 400);
            Assert.Contains("invalid name", detail, StringComparison.Ordinal);
            Assert.Contains("letters, digits, '.', '_' or '-'", detail, StringComparison.Ordinal);
        }

        const string good = "team-a_app.v2";
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = good })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/api-keys/{good}")).StatusCode);
        Assert.DoesNotContain(good, await admin.GetStringAsync("/api/v1/api-keys"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Limits_must_be_positive_and_a_concurrency_limit_is_kept_and_listed()
    {
        await using var host = await ServerHost.StartAsync(StoreEngines.Sqlite);
        using var admin = host.Admin();

        foreach (var bad in new object[] { new { name = "a", maxConcurrent = 0 }, new { name = "a", rpm = -1 }, new { name = "a", tpm = 0 } })
        {
            var detail = await Problem.DetailAsync(await admin.PostAsJsonAsync("/api/v1/api-keys", bad), 400);
            Assert.Contains("must be positive", detail, StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "batchy", maxConcurrent = 3 })).StatusCode);
        var list = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/api-keys");
        Assert.Equal(3, list.GetProperty("items")[0].GetProperty("maxConcurrent").GetInt32());
    }
}
