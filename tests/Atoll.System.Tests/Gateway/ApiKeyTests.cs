using System.Diagnostics;
using System.Net;

namespace Atoll.System.Tests.Gateway;

/// <summary>API keys made through the admin API: they authenticate, their rate limit holds, deleting them revokes them.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ApiKeyTests(SharedGatewayFixture shared)
{
    [Fact]
    public async Task Key_limited_to_2_rpm_gets_429_with_Retry_After_on_its_third_request_and_401_soon_after_it_is_deleted()
    {
        var server = shared.Server;
        var name = $"rpm2-{Guid.NewGuid():N}";
        var key = await server.CreateApiKeyAsync(name, rpm: 2);

        for (var i = 0; i < 2; i++)
        {
            using var ok = await server.PostChatAsync(Chat.Request($"request {i}", 1), key);
            Chat.AssertComplete(ok.StatusCode, await ok.Content.ReadAsStringAsync(), 1);
        }
        using (var limited = await server.PostChatAsync(Chat.Request("request 3", 1), key))
        {
            await Chat.AssertOpenAiErrorAsync(limited, HttpStatusCode.TooManyRequests, code: "rate_limit_exceeded");
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.True(retryAfter is { } wait && wait >= TimeSpan.FromSeconds(1) && wait <= TimeSpan.FromSeconds(60),
                $"expected Retry-After of 1 to 60 s, got '{limited.Headers.RetryAfter}'");
        }

        await server.DeleteApiKeyAsync(name);
        var deleted = Stopwatch.StartNew();
        HttpStatusCode last = 0;
        // The gateway caches key lookups for 5 s; until then the key is still known (and still rate limited).
        while (last != HttpStatusCode.Unauthorized && deleted.Elapsed < TimeSpan.FromSeconds(8))
        {
            using var response = await server.PostChatAsync(Chat.Request("after delete", 1), key);
            last = response.StatusCode;
            if (last == HttpStatusCode.Unauthorized)
            {
                await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.Unauthorized, code: "invalid_api_key");
            }
            else
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, last);
                await Task.Delay(200);
            }
        }
        Assert.True(last == HttpStatusCode.Unauthorized, $"the deleted key still answered {(int)last} {deleted.Elapsed.TotalSeconds:0.0} s after deletion");
        Assert.True(deleted.Elapsed < TimeSpan.FromSeconds(7), $"the deleted key was refused only after {deleted.Elapsed.TotalSeconds:0.0} s");
    }
}
