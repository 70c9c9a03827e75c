using Atoll.Core.Fleet;

namespace Atoll.Providers.Tests.Lambda;

public sealed class LambdaErrorTests
{
    private const string RateLimited = """{"error":{"code":"global/too-many-requests","message":"Too many requests","suggestion":"Slow down."}}""";
    private const string Unavailable = """{"error":{"code":"global/internal-error","message":"Service temporarily unavailable"}}""";

    [Fact]
    public async Task A_wrong_api_key_is_Unauthorized_with_lambdas_message_and_not_retried()
    {
        await using var h = await LambdaHarness.StartAsync(apiKey: "wrong-key");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.GetOffersAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Contains("API key was invalid, expired, or deleted.", e.Message);
        Assert.Contains("Check your API key", e.Message);
        Assert.Single(h.Lambda.CallsTo("GET /instance-types"));
    }

    [Fact]
    public async Task A_missing_api_key_is_Unauthorized_naming_the_credential_without_calling_lambda()
    {
        await using var h = await LambdaHarness.StartAsync(apiKey: "");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.GetOffersAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Unauthorized, e.Reason);
        Assert.Contains("credentials.apiKey", e.Message);
        Assert.Empty(h.Lambda.Calls);
    }

    [Fact]
    public async Task A_429_is_retried_after_the_Retry_After_delay_and_the_call_succeeds()
    {
        var time = new DelayRecordingTime();
        var options = LambdaHarness.FastRetries with { MaxBackoff = TimeSpan.FromSeconds(10) };
        await using var h = await LambdaHarness.StartAsync(options: options, time: time);
        h.Lambda.Fail("GET /instance-types", 429, RateLimited, retryAfter: "7");

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(5, offers.Count);
        Assert.Equal(2, h.Lambda.CallsTo("GET /instance-types").Count);
        Assert.Contains(TimeSpan.FromSeconds(7), time.Delays);
    }

    [Fact]
    public async Task Server_errors_are_retried_until_the_call_succeeds()
    {
        await using var h = await LambdaHarness.StartAsync();
        h.Lambda.Fail("GET /instances", 503, Unavailable, times: 2);

        var listed = await h.Provider.ListAsync(CancellationToken.None);

        Assert.Empty(listed);
        Assert.Equal(3, h.Lambda.CallsTo("GET /instances").Count);
    }

    [Fact]
    public async Task Server_errors_past_the_attempt_limit_surface_as_Transient_with_lambdas_message()
    {
        await using var h = await LambdaHarness.StartAsync();
        h.Lambda.Fail("GET /instances", 500, Unavailable, times: 10);

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.ListAsync(CancellationToken.None));

        Assert.Equal(ProviderErrorReason.Transient, e.Reason);
        Assert.Contains("Service temporarily unavailable", e.Message);
        Assert.Equal(LambdaHarness.FastRetries.MaxAttempts, h.Lambda.CallsTo("GET /instances").Count);
    }

    [Fact]
    public async Task A_capacity_error_is_not_retried()
    {
        await using var h = await LambdaHarness.StartAsync();
        var offer = await h.OfferAsync("gpu_1x_a10", "us-west-1");
        h.Lambda.Fail("POST /instance-operations/launch", 400,
            """{"error":{"code":"instance-operations/launch/insufficient-capacity","message":"Not enough capacity to fulfill launch request."}}""");

        var e = await Assert.ThrowsAsync<ProviderException>(() => h.Provider.CreateAsync(LambdaHarness.Launch("claim-1", offer), CancellationToken.None));

        Assert.Equal(ProviderErrorReason.InsufficientCapacity, e.Reason);
        Assert.Single(h.Lambda.CallsTo("POST /instance-operations/launch"));
    }
}
