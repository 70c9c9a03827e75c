using System.Net;
using System.Text;
using System.Text.Json;

namespace Atoll.Sim.Tests;

public class BadInputTests
{
    private static async Task<JsonElement> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await SimHost.JsonAsync(response)).GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        return error;
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/completions")]
    [InlineData("/v1/embeddings")]
    public async Task Malformed_JSON_is_a_400(string path)
    {
        await using var sim = await SimHost.StartAsync();

        using var response = await sim.Http.PostAsync(path, new StringContent("{\"model\": ", Encoding.UTF8, "application/json"));

        var error = await ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
    }

    [Theory]
    [InlineData("/v1/chat/completions", "messages")]
    [InlineData("/v1/completions", "prompt")]
    [InlineData("/v1/embeddings", "input")]
    public async Task A_missing_required_field_is_a_400_naming_it(string path, string field)
    {
        await using var sim = await SimHost.StartAsync();

        using var response = await sim.PostAsync(path, new { model = "sim-model" });

        var error = await ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Equal("missing_required_parameter", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Bad_field_values_are_400s_naming_the_field()
    {
        await using var sim = await SimHost.StartAsync();

        using var zeroTokens = await sim.PostAsync("/v1/completions", new { prompt = "hi", max_tokens = 0 });
        using var emptyMessages = await sim.PostAsync("/v1/chat/completions", new { messages = Array.Empty<object>() });
        using var notAnObject = await sim.Http.PostAsync("/v1/completions", new StringContent("[1,2]"));

        Assert.Equal("max_tokens", (await ErrorAsync(zeroTokens, HttpStatusCode.BadRequest)).GetProperty("param").GetString());
        Assert.Equal("messages", (await ErrorAsync(emptyMessages, HttpStatusCode.BadRequest)).GetProperty("param").GetString());
        await ErrorAsync(notAnObject, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/completions")]
    [InlineData("/v1/embeddings")]
    public async Task A_model_that_is_not_served_is_a_404_model_not_found(string path)
    {
        await using var sim = await SimHost.StartAsync();

        using var response = await sim.PostAsync(path, new
        {
            model = "gpt-4o",
            messages = new[] { new { role = "user", content = "hi" } },
            prompt = "hi",
            input = "hi",
        });

        var error = await ErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Contains("gpt-4o", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_with_or_without_content_length()
    {
        var options = SimHost.Instant();
        options.MaxBodyBytes = 1024;
        await using var sim = await SimHost.StartAsync(options);
        var big = JsonSerializer.Serialize(new { prompt = new string('x', 2000) });

        using var sized = await sim.Http.PostAsync("/v1/completions", new StringContent(big, Encoding.UTF8, "application/json"));
        using var chunkedRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(big) };
        chunkedRequest.Headers.TransferEncodingChunked = true;
        using var chunked = await sim.Http.SendAsync(chunkedRequest);
        using var small = await sim.PostAsync("/v1/completions", new { prompt = "hi" });

        Assert.Equal("request_too_large", (await ErrorAsync(sized, HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString());
        await ErrorAsync(chunked, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }
}
