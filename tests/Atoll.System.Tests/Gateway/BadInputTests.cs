using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>Bad requests are refused in OpenAI's error shape, with the status the SDKs map to the right exception.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BadInputTests(SharedGatewayFixture shared)
{
    private GatewayServer Server => shared.Server;

    [Fact]
    public async Task Unknown_model_is_404_model_not_found()
    {
        using var response = await Server.PostChatAsync(Chat.Request("hi", 1, model: "no-such-model"), Server.AdminToken);

        await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.NotFound, code: "model_not_found", param: "model");
    }

    [Fact]
    public async Task Requests_the_gateway_refuses_itself_are_counted_by_status_without_client_chosen_labels()
    {
        var before = await Server.MetricsAsync();
        using (await Server.PostChatAsync(Chat.Request("hi", 1), "sk-atoll-wrong")) { }
        using (await Server.PostChatAsync(Chat.Request("hi", 1, model: "model-nobody-serves"), Server.AdminToken)) { }
        using (await SendRawAsync("{not json"u8.ToArray(), Server.AdminToken)) { }

        var after = await Server.MetricsAsync();
        foreach (var code in new[] { "401", "404", "400" })
        {
            var fragment = $"code=\"{code}\"";
            Assert.Equal(Prometheus.Sum(before, "atoll_gateway_rejected_total", fragment) + 1, Prometheus.Sum(after, "atoll_gateway_rejected_total", fragment));
        }
        Assert.DoesNotContain("model-nobody-serves", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_is_400()
    {
        using var response = await SendRawAsync(Encoding.UTF8.GetBytes("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", "), Server.AdminToken);

        var error = await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Missing_messages_is_400_naming_messages()
    {
        using var response = await Server.PostChatAsync(new { model = Chat.Model, max_tokens = 1 }, Server.AdminToken);

        await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param: "messages");
        // Readable as sent, as OpenAI's own errors are: quotes not escaped to \u0027 for someone reading curl output.
        Assert.Contains("\"'messages' is a required property", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Empty_messages_is_400_naming_messages()
    {
        using var response = await Server.PostChatAsync(new { model = Chat.Model, messages = Array.Empty<object>() }, Server.AdminToken);

        await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param: "messages");
    }

    [Fact]
    public async Task Body_over_8_MiB_with_a_length_is_413()
    {
        // As curl does for large bodies: ask first, so the refusal arrives before 8 MiB are sent for nothing.
        using var response = await SendRawAsync(OversizeBody(), Server.AdminToken, expectContinue: true);

        await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, code: "request_too_large");
    }

    [Fact]
    public async Task Body_over_8_MiB_sent_chunked_is_413_in_OpenAI_shape()
    {
        // No Content-Length: the gateway must count while reading rather than trust a header.
        var (status, head, body) = await RawHttp.PostChunkedAsync(Server.Port, "/v1/chat/completions", Server.AdminToken, OversizeBody());

        Assert.True(status == HttpStatusCode.RequestEntityTooLarge, $"expected 413, got {head}\n\n{body}");
        Assert.True(body.Length > 0, $"the 413 has no body, so no OpenAI error: {head}");
        Chat.AssertOpenAiErrorJson(body, code: "request_too_large");
    }

    [Fact]
    public async Task Body_over_1_MiB_but_under_the_8_MiB_limit_is_served()
    {
        // Long prompts and inline images make multi-MiB requests ordinary. The padding is a field the sim ignores,
        // so the answer stays quick; the gateway forwards the body untouched (the sim takes up to 16 MiB).
        var body = Encoding.UTF8.GetBytes(
            $"{{\"model\":\"{Chat.Model}\",\"max_tokens\":2,\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}],\"padding\":\"{new string('a', 2 * 1024 * 1024)}\"}}");

        using var response = await SendRawAsync(body, Server.AdminToken);

        Chat.AssertComplete(response.StatusCode, await response.Content.ReadAsStringAsync(), 2);
    }

    [Fact]
    public async Task Missing_api_key_is_401()
    {
        using var response = await Server.PostChatAsync(Chat.Request("hi", 1), bearer: null);

        await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.Unauthorized, code: "invalid_api_key");
    }

    [Fact]
    public async Task Wrong_api_key_is_401()
    {
        using var response = await Server.PostChatAsync(Chat.Request("hi", 1), "sk-atoll-not-a-real-key");

        await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.Unauthorized, code: "invalid_api_key");
    }

    [Fact]
    public async Task Models_list_without_a_key_is_401_and_with_one_names_the_model()
    {
        using (var anonymous = await Server.Http.GetAsync(new Uri("v1/models", UriKind.Relative)))
        {
            await Chat.AssertOpenAiErrorAsync(anonymous, HttpStatusCode.Unauthorized, code: "invalid_api_key");
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Server.AdminToken);
        using var response = await Server.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains($"\"id\":\"{Chat.Model}\"", body);
    }

    /// <summary>A valid chat request padded past the gateway's 8 MiB limit.</summary>
    private static byte[] OversizeBody() =>
        Encoding.UTF8.GetBytes($"{{\"model\":\"{Chat.Model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"{new string('a', (8 * 1024 * 1024) + 1024)}\"}}]}}");

    [Fact]
    public async Task A_model_servers_own_400_is_passed_on_and_counted_but_is_no_time_to_first_token()
    {
        var before = await Server.MetricsAsync();
        // The gateway takes a list of prompts; atoll sim refuses more than one, as some model servers do.
        using var response = await SendRawAsync(
            Encoding.UTF8.GetBytes($"{{\"model\":\"{Chat.Model}\",\"prompt\":[\"a\",\"b\"],\"max_tokens\":1}}"), Server.AdminToken, path: "v1/completions");

        var error = await Chat.AssertOpenAiErrorAsync(response, HttpStatusCode.BadRequest, param: "prompt");
        Assert.Contains("one prompt per request", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(response.Headers.Contains("x-atoll-endpoint"), "the 400 did not come from the model server");
        // A request is counted once its answer is written, so a scrape right after the answer may come first.
        var counted = Prometheus.Sum(before, "atoll_gateway_requests_total", "code=\"400\"") + 1;
        var after = "";
        await Eventually.Until(async () => Prometheus.Sum(after = await Server.MetricsAsync(), "atoll_gateway_requests_total", "code=\"400\"") >= counted,
            TimeSpan.FromSeconds(5), "the 400 counted", () => after);
        Assert.Equal(counted, Prometheus.Sum(after, "atoll_gateway_requests_total", "code=\"400\""));
        Assert.Equal(Prometheus.Sum(before, "atoll_gateway_time_to_first_token_seconds_count"), Prometheus.Sum(after, "atoll_gateway_time_to_first_token_seconds_count"));
    }

    private Task<HttpResponseMessage> SendRawAsync(byte[] body, string bearer, bool expectContinue = false, string path = "v1/chat/completions")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        request.Headers.ExpectContinue = expectContinue;
        return Server.Http.SendAsync(request);
    }
}
