using System.Net;
using System.Net.Http.Json;

namespace Atoll.Sim.Tests;

public class FailureInjectionTests
{
    private static readonly object Chat = new { model = "sim-model", messages = new[] { new { role = "user", content = "hi" } } };

    private static Task<SimHost> StartFailingAsync(string kind)
    {
        var options = SimHost.Instant();
        options.FailureRate = 1;
        options.FailureKinds = [kind];
        return SimHost.StartAsync(options);
    }

    [Theory]
    [InlineData("500", HttpStatusCode.InternalServerError, "server_error")]
    [InlineData("429", HttpStatusCode.TooManyRequests, "rate_limit_error")]
    [InlineData("invalid", HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData("model-not-found", HttpStatusCode.NotFound, "invalid_request_error")]
    public async Task Answering_failure_kinds_give_their_status_in_OpenAI_error_shape(string kind, HttpStatusCode status, string type)
    {
        await using var sim = await StartFailingAsync(kind);

        using var response = await sim.PostAsync("/v1/chat/completions", Chat);

        Assert.Equal(status, response.StatusCode);
        var error = (await SimHost.JsonAsync(response)).GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        if (kind == "model-not-found")
        {
            Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        }
        Assert.Equal(1, await sim.MetricAsync("atoll_sim_requests_total", $"status=\"{(int)status}\""));
    }

    [Fact]
    public async Task Reset_drops_the_connection_so_the_client_throws()
    {
        await using var sim = await StartFailingAsync("reset");

        await Assert.ThrowsAsync<HttpRequestException>(() => sim.PostAsync("/v1/chat/completions", Chat));

        Assert.Equal(1, await sim.WaitForMetricAsync("atoll_sim_requests_total", v => v == 1, "status=\"aborted\""));
    }

    [Fact]
    public async Task Hang_accepts_the_request_but_never_answers()
    {
        await using var sim = await StartFailingAsync("hang");
        using var impatient = new HttpClient { BaseAddress = sim.BaseAddress, Timeout = TimeSpan.FromSeconds(1) };

        var error = await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.PostAsJsonAsync("/v1/chat/completions", Chat));

        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Equal(1, await sim.WaitForMetricAsync("atoll_sim_requests_cancelled_total", v => v == 1));
    }

    [Fact]
    public async Task Midstream_sends_a_few_tokens_then_drops_the_connection_without_done()
    {
        await using var sim = await StartFailingAsync("midstream");
        var lines = new List<string>();

        var error = await Record.ExceptionAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 10, stream = true }),
            };
            using var response = await sim.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length > 0)
                {
                    lines.Add(line);
                }
            }
        });

        Assert.True(error is IOException, $"expected the stream to break, got {error}");
        Assert.Equal(3, lines.Count);
        Assert.DoesNotContain("data: [DONE]", lines);
    }

    [Fact]
    public async Task A_seeded_failure_rate_fails_some_requests_and_not_others()
    {
        var options = SimHost.Instant();
        options.FailureRate = 0.5;
        options.FailureKinds = ["500"];
        options.Seed = 42;
        await using var sim = await SimHost.StartAsync(options);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await sim.PostAsync("/v1/chat/completions", Chat);
            statuses.Add(response.StatusCode);
        }

        var failed = statuses.Count(s => s == HttpStatusCode.InternalServerError);
        Assert.InRange(failed, 8, 32);
        Assert.Equal(40 - failed, statuses.Count(s => s == HttpStatusCode.OK));
    }
}
