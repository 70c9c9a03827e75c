using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Core.Security;
using Atoll.Testing;

namespace Atoll.Server.Tests;

public sealed class JoinTokenTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Join_token_is_counted_down_per_registration_and_refused_when_used_up(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var token = await host.CreateJoinTokenAsync(uses: 2);

        Assert.True((await host.RegisterAsync(token, ServerHost.Registration("n1"))).IsSuccessStatusCode);
        using (var admin = host.Admin())
        {
            var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/join-tokens");
            var only = Assert.Single(list.GetProperty("items").EnumerateArray());
            Assert.Equal(1, only.GetProperty("usesLeft").GetInt32());
            Assert.Equal(JsonValueKind.Null, only.GetProperty("token").ValueKind);
        }
        Assert.True((await host.RegisterAsync(token, ServerHost.Registration("n2"))).IsSuccessStatusCode);
        var third = await host.RegisterAsync(token, ServerHost.Registration("n3"));
        Assert.Contains("no uses left", await Problem.DetailAsync(third, 401));

        using var client = host.Admin();
        var nodes = await client.GetFromJsonAsync<JsonElement>("/api/v1/nodes");
        Assert.Equal(["n1", "n2"], nodes.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Expired_and_unknown_join_tokens_are_refused(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var token = await host.CreateJoinTokenAsync(ttl: "10m");
        host.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        Assert.Contains("expired", await Problem.DetailAsync(await host.RegisterAsync(token, ServerHost.Registration("n1")), 401));
        Assert.Contains("not valid", await Problem.DetailAsync(
            await host.RegisterAsync(Tokens.New(Tokens.JoinPrefix), ServerHost.Registration("n1")), 401));
        using var anonymous = host.Client();
        Assert.Contains("missing join token", await Problem.DetailAsync(
            await anonymous.PostAsJsonAsync("/api/v1/agent/register", ServerHost.Registration("n1")), 401));
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Join_token_carries_its_pool_to_the_node_and_can_be_revoked(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var token = await host.CreateJoinTokenAsync(uses: 5, pool: "h100-spot");
        Assert.True((await host.RegisterAsync(token, ServerHost.Registration("n1"))).IsSuccessStatusCode);
        Assert.Equal("h100-spot", (await host.GetNodeAsync("n1")).Pool);

        using var admin = host.Admin();
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/join-tokens");
        var id = list.GetProperty("items")[0].GetProperty("id").GetString();
        Assert.Equal(204, (int)(await admin.DeleteAsync($"/api/v1/join-tokens/{id}")).StatusCode);
        Assert.Contains("not valid", await Problem.DetailAsync(await host.RegisterAsync(token, ServerHost.Registration("n2")), 401));
    }

    [Theory]
    [InlineData("{\"uses\": \"three\"}", "$.uses")]
    [InlineData("{\"uses\": 0}", "out of range")]
    [InlineData("{\"uses\": 1, \"ttl\": \"forever\"}", "ttl 'forever' is invalid")]
    [InlineData("{\"uses\": 1, \"ttl\": \"90d\"}", "at most 30d")]
    [InlineData("{\"uses\": 1,", "malformed JSON")]
    public async Task Bad_token_requests_get_a_clear_400(string body, string expected)
    {
        await using var host = await ServerHost.StartAsync(StoreEngines.Sqlite);
        using var admin = host.Admin();
        var response = await admin.PostAsync("/api/v1/join-tokens", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Contains(expected, await Problem.DetailAsync(response, 400));
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/join-tokens");
        Assert.Empty(list.GetProperty("items").EnumerateArray());
    }
}
