using System.Text.Json.Nodes;
using Atoll.Core.Fleet;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Providers.Tests.Verda;

public sealed class VerdaAuthTests
{
    [Fact]
    public async Task The_token_is_fetched_once_with_the_client_credentials_and_then_reused()
    {
        await using var h = await VerdaHarness.StartAsync();

        await h.Provider.GetOffersAsync(CancellationToken.None);
        await h.Provider.ListAsync(CancellationToken.None);

        var grant = JsonNode.Parse(Assert.Single(h.Verda.CallsTo("POST /oauth2/token")).Body)!;
        Assert.Equal(("client_credentials", h.Verda.ClientId, h.Verda.ClientSecret),
            ((string?)grant["grant_type"], (string?)grant["client_id"], (string?)grant["client_secret"]));
        var apiCalls = h.Verda.Calls.Where(c => !c.PathAndQuery.StartsWith("/oauth2", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, apiCalls.Count);
        Assert.All(apiCalls, c => Assert.StartsWith("Bearer verda-access-1-", c.Authorization));
    }

    [Fact]
    public async Task An_expiring_token_is_kept_until_shortly_before_expiry_then_renewed_with_the_refresh_token()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-06-01T00:00:00Z"));
        await using var h = await VerdaHarness.StartAsync(time: time);
        await h.Provider.ListAsync(CancellationToken.None);

        time.Advance(TimeSpan.FromMinutes(50));
        await h.Provider.ListAsync(CancellationToken.None);
        Assert.Single(h.Verda.CallsTo("POST /oauth2/token"));

        time.Advance(TimeSpan.FromMinutes(10));
        await h.Provider.ListAsync(CancellationToken.None);

        var grants = h.Verda.CallsTo("POST /oauth2/token").Select(c => JsonNode.Parse(c.Body)!).ToList();
        Assert.Equal(2, grants.Count);
        Assert.Equal("refresh_token", (string?)grants[1]["grant_type"]);
        Assert.StartsWith("verda-refresh-1-", (string?)grants[1]["refresh_token"]);
        Assert.StartsWith("Bearer verda-access-2-", h.Verda.CallsTo("GET /instances")[^1].Authorization);
        Assert.Equal(3, h.Verda.CallsTo("GET /instances").Count);
    }

    [Fact]
    public async Task A_refused_refresh_token_falls_back_on_the_client_credentials()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-06-01T00:00:00Z"));
        await using var h = await VerdaHarness.StartAsync(time: time);
        await h.Provider.ListAsync(CancellationToken.None);
        h.Verda.RevokeTokens(refreshTokens: true);
        time.Advance(TimeSpan.FromHours(2));

        await h.Provider.ListAsync(CancellationToken.None);

        var grants = h.Verda.CallsTo("POST /oauth2/token").Select(c => (string?)JsonNode.Parse(c.Body)!["grant_type"]).ToList();
        Assert.Equal(new string?[] { "client_credentials", "refresh_token", "client_credentials" }, grants);
    }

    [Fact]
    public async Task A_401_gets_a_new_token_once_and_the_call_is_retried_with_it()
    {
        await using var h = await VerdaHarness.StartAsync();
        await h.Provider.ListAsync(CancellationToken.None);
        h.Verda.RevokeTokens();

        var listed = await h.Provider.ListAsync(CancellationToken.None);

        Assert.Empty(listed);
        Assert.Equal(2, h.Verda.TokensIssued);
        var lists = h.Verda.CallsTo("GET /instances");
        Assert.Equal(3, lists.Count);
        Assert.StartsWith("Bearer verda-access-1-", lists[1].Authorization);
        Assert.StartsWith("Bearer verda-access-2-", lists[2].Authorization);
    }

    [Fact]
    public async Task A_call_refused_again_with_the_new_token_is_Unauthorized_without_looping()
    {
        await using var h = await VerdaHarness.StartAsync();
        h.Verda.Fail("GET /instances", 401, """{"code":"unauthorized_request","message":"Access denied"}""", times: 5);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.ListAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Contains("Access denied", e.Message);
        Assert.Equal(2, h.Verda.CallsTo("GET /instances").Count);
        Assert.Equal(2, h.Verda.TokensIssued);
    }

    [Fact]
    public async Task A_wrong_client_secret_is_Unauthorized_with_verdas_message()
    {
        await using var h = await VerdaHarness.StartAsync(clientSecret: "wrong");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.GetOffersAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Contains("Invalid client credentials", e.Message);
        Assert.Empty(h.Verda.CallsTo("GET /instance-types"));
    }
}
