using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Atoll.System.Tests.Gateway;

/// <summary>With the only model server gone, requests are refused quickly and clearly, never left hanging.</summary>
[Collection(GatewayCollection.Name)]
public sealed class NoHealthyEndpointTests
{
    [Fact]
    public async Task Only_backend_killed_requests_get_a_prompt_OpenAI_error_then_503()
    {
        using var dir = new TempDirectory("gateway-none");
        await using var fleet = await GatewayFleet.StartAsync(dir, [[]]);
        var server = fleet.Server;
        using (var ok = await server.PostChatAsync(Chat.Request("before", 2), server.AdminToken))
        {
            Chat.AssertComplete(ok.StatusCode, await ok.Content.ReadAsStringAsync(), 2);
        }

        fleet.Sims[0].Kill();
        var killed = Stopwatch.StartNew();
        HttpStatusCode last = 0;
        var answers = new List<HttpStatusCode>();
        var lastBody = "";
        while (last != HttpStatusCode.ServiceUnavailable && killed.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var asked = Stopwatch.StartNew();
            using var response = await server.PostChatAsync(Chat.Request($"after {answers.Count}", 2), server.AdminToken, ct: timeout.Token);
            Assert.True(asked.Elapsed < TimeSpan.FromSeconds(3), $"request {answers.Count} took {asked.Elapsed.TotalMilliseconds:0} ms to be refused");
            var body = lastBody = await response.Content.ReadAsStringAsync();
            last = response.StatusCode;
            answers.Add(last);
            Assert.True(last is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"answered {(int)last}: {body}");
            Chat.AssertOpenAiErrorJson(body, code: last == HttpStatusCode.BadGateway ? "upstream_failed" : "no_endpoint_available");
            // A 502 names the endpoint that failed and why, but not where the model server listens.
            Assert.DoesNotContain($":{fleet.Sims[0].Port}", body, StringComparison.Ordinal);
            if (last == HttpStatusCode.BadGateway)
            {
                Assert.Contains($"last: {fleet.Sims[0].EndpointId}: ", body, StringComparison.Ordinal);
            }
            await Task.Delay(100);
        }
        // Once the probe (every 1 s) or passive ejection notices, the gateway stops trying and says so.
        Assert.True(last == HttpStatusCode.ServiceUnavailable, $"never 503 within 10 s; answers: {string.Join(", ", answers.Select(a => (int)a))}");
        Assert.Contains("can take requests now (1 endpoint: 1 ", lastBody, StringComparison.Ordinal);

        using var models = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        models.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.AdminToken);
        using var listed = await server.Http.SendAsync(models);
        Assert.DoesNotContain($"\"id\":\"{Chat.Model}\"", await listed.Content.ReadAsStringAsync());
    }
}
