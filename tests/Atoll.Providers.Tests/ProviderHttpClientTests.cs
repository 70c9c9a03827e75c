using System.Net;
using Atoll.Core.Fleet;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests;

public sealed class ProviderHttpClientTests
{
    [Fact]
    public async Task Transient_failures_are_retried_and_a_non_retryable_error_is_thrown_at_once()
    {
        var handler = new ScriptedHandler(HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
        var client = Create(handler);
        var body = await client.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "http://x/a"), CancellationToken.None);
        Assert.Equal("ok", body);
        Assert.Equal(3, handler.Calls);

        var refused = new ScriptedHandler(HttpStatusCode.BadRequest, HttpStatusCode.OK);
        var e = await Assert.ThrowsAsync<ProviderException>(() =>
            Create(refused).SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "http://x/a"), CancellationToken.None));
        Assert.Equal(ProviderErrorReason.InvalidRequest, e.Reason);
        Assert.Equal(1, refused.Calls);
    }

    [Fact]
    public async Task Gives_up_after_the_configured_attempts()
    {
        var handler = new ScriptedHandler(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 10).ToArray());
        var e = await Assert.ThrowsAsync<ProviderException>(() =>
            Create(handler).SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "http://x/a"), CancellationToken.None));
        Assert.Equal(ProviderErrorReason.RateLimited, e.Reason);
        Assert.Equal(3, handler.Calls);
    }

    private static ProviderHttpClient Create(HttpMessageHandler handler) =>
        new(new HttpClient(handler), "test", (status, body) => new ProviderException(ProviderHttpClient.ReasonOf(status), $"{(int)status}: {body}"),
            new ProviderHttpOptions { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(5) },
            TimeProvider.System, NullLogger.Instance);

    private sealed class ScriptedHandler(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var status = statuses[Math.Min(Calls, statuses.Length - 1)];
            Calls++;
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(status == HttpStatusCode.OK ? "ok" : "{}") });
        }
    }
}
