using System.Diagnostics;
using System.Net;
using Atoll.Testing.Processes;

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

    [Theory]
    [InlineData("--rpm", "0")]
    [InlineData("--tpm", "-5")]
    [InlineData("--max-concurrent", "0")]
    public async Task A_limit_under_1_is_refused_by_the_cli_naming_the_option_and_no_key_is_made(string option, string value)
    {
        var server = shared.Server;
        var name = $"bad-limit-{Guid.NewGuid():N}";

        var created = await server.CliAsync("keys", "create", "--name", name, option, value);

        Assert.NotEqual(0, created.ExitCode);
        Assert.Contains($"{option} must be at least 1; leave it out for no limit", created.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-atoll-", created.StandardOutput, StringComparison.Ordinal);
        var listed = await server.CliAsync("keys", "list", "-o", "json");
        Assert.DoesNotContain(name, listed.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_streamed_before_the_client_left_count_against_the_keys_token_limit()
    {
        var server = shared.Server;
        var key = await server.CreateApiKeyAsync($"tpm20-{Guid.NewGuid():N}", tpm: 20);
        var leftBefore = await LeftByClientsAsync(server);

        // 100 tokens at 100 ms each: the client takes 25 of them, then leaves long before the answer would end. The
        // prompt ("user: hi") is estimated at 2 tokens, so without the 25 the key would still have 18 to spend.
        using var leave = new CancellationTokenSource();
        var response = await server.PostChatAsync(Chat.Request("hi", 100, stream: true), key,
            HttpCompletionOption.ResponseHeadersRead, ct: leave.Token);
        try
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(leave.Token));
            for (var events = 0; events < 25;)
            {
                var line = await reader.ReadLineAsync(leave.Token);
                Assert.NotNull(line);
                events += line.StartsWith("data:", StringComparison.Ordinal) ? 1 : 0;
            }
        }
        finally
        {
            await leave.CancelAsync();
            response.Dispose();
        }
        await WaitUntilCountedAsLeftAsync(server, leftBefore);

        // 2 + 25 tokens against a limit of 20 per minute: the key is in debt, so its next request waits.
        using var next = await server.PostChatAsync(Chat.Request("hi", 1), key);
        await Chat.AssertOpenAiErrorAsync(next, HttpStatusCode.TooManyRequests, code: "rate_limit_exceeded");
    }

    [Fact]
    public async Task Key_limited_to_1_request_in_flight_gets_429_beside_a_running_stream_and_its_slot_back_when_the_client_leaves()
    {
        var server = shared.Server;
        var name = $"one-at-a-time-{Guid.NewGuid():N}";
        var created = await server.CliAsync("keys", "create", "--name", name, "--max-concurrent", "1", "-q");
        Assert.True(created.ExitCode == 0, created.ToString());
        var key = created.StandardOutput.Trim();
        var listed = await server.CliAsync("keys", "list");
        Assert.Matches($@"{name}\s.*\s1\s", listed.StandardOutput.Split('\n').Single(l => l.StartsWith(name, StringComparison.Ordinal)));
        var leftBefore = await LeftByClientsAsync(server);

        // 100 tokens 100 ms apart: in flight for 10 s unless its client leaves.
        using var leave = new CancellationTokenSource();
        var running = await server.PostChatAsync(Chat.Request("long", 100, stream: true), key, HttpCompletionOption.ResponseHeadersRead, ct: leave.Token);
        try
        {
            Assert.Equal(HttpStatusCode.OK, running.StatusCode);
            using var reader = new StreamReader(await running.Content.ReadAsStreamAsync(leave.Token));
            Assert.StartsWith("data:", await reader.ReadLineAsync(leave.Token), StringComparison.Ordinal);

            using (var second = await server.PostChatAsync(Chat.Request("beside", 1), key))
            {
                var error = await Chat.AssertOpenAiErrorAsync(second, HttpStatusCode.TooManyRequests, code: "rate_limit_exceeded");
                Assert.Contains("1 request(s) in flight", error.GetProperty("message").GetString(), StringComparison.Ordinal);
                Assert.NotNull(second.Headers.RetryAfter);
            }
            // Other callers are not held back by this key's limit.
            using var admin = await server.PostChatAsync(Chat.Request("admin beside", 1), server.AdminToken);
            Chat.AssertComplete(admin.StatusCode, await admin.Content.ReadAsStringAsync(), 1);
        }
        finally
        {
            await leave.CancelAsync();
            running.Dispose();
        }
        await WaitUntilCountedAsLeftAsync(server, leftBefore);

        using var after = await server.PostChatAsync(Chat.Request("after", 1), key);
        Chat.AssertComplete(after.StatusCode, await after.Content.ReadAsStringAsync(), 1);
    }

    /// <summary>Requests the gateway counted as left by their client (<c>code="499"</c>).</summary>
    private static async Task<double> LeftByClientsAsync(GatewayServer server) =>
        Prometheus.Sum(await server.MetricsAsync(), "atoll_gateway_requests_total", "code=\"499\"");

    /// <summary>Waits until the gateway has counted one more request as left by its client, i.e. has finished with it.</summary>
    private static async Task WaitUntilCountedAsLeftAsync(GatewayServer server, double before)
    {
        var left = before;
        await Eventually.Until(async () => (left = await LeftByClientsAsync(server)) > before,
            TimeSpan.FromSeconds(5), "the gateway counts the request as left by its client (code 499)", () => $"{left} (was {before})");
    }
}
