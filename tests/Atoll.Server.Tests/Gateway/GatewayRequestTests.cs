using System.Text;
using Atoll.Server.Gateway;

namespace Atoll.Server.Tests.Gateway;

public sealed class GatewayRequestTests
{
    private static (GatewayRequest? Request, string? Error, string? Param) Parse(string json, GatewayRoute route = GatewayRoute.ChatCompletions) =>
        GatewayRequest.Parse(Encoding.UTF8.GetBytes(json), route);

    [Fact]
    public void Chat_request_yields_model_stream_flag_and_prompt_text_in_message_order()
    {
        var (request, error, _) = Parse("""
            {"model":"llama","stream":true,"messages":[
              {"role":"system","content":"You are terse."},
              {"role":"user","content":[{"type":"text","text":"Hello"},{"type":"text","text":"world"}]}]}
            """);
        Assert.Null(error);
        Assert.Equal("llama", request!.Model);
        Assert.True(request.Stream);
        Assert.Equal("system: You are terse.\nuser: Hello\nworld\n", request.Prompt);
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", "you must provide a model parameter")]
    [InlineData("{\"model\":\"m\"}", "messages", "'messages' is a required property")]
    [InlineData("{\"model\":\"m\",\"messages\":[]}", "messages", "non-empty array")]
    [InlineData("{\"model\":\"m\",\"messages\":", null, "could not parse the JSON")]
    [InlineData("[1,2]", null, "must be a JSON object")]
    public void Bad_chat_requests_name_what_is_wrong(string json, string? param, string expected)
    {
        var (request, error, p) = Parse(json);
        Assert.Null(request);
        Assert.Contains(expected, error);
        Assert.Equal(param, p);
    }

    [Fact]
    public void Completions_need_a_prompt_and_embeddings_an_input()
    {
        Assert.Equal("prompt", Parse("{\"model\":\"m\"}", GatewayRoute.Completions).Param);
        Assert.Equal("input", Parse("{\"model\":\"m\"}", GatewayRoute.Embeddings).Param);
        Assert.Equal("a\nb\n", Parse("{\"model\":\"m\",\"input\":[\"a\",\"b\"]}", GatewayRoute.Embeddings).Request!.Prompt);
    }

    [Fact]
    public void Completion_tokens_are_read_from_usage_only()
    {
        Assert.Equal(16, Usage.CompletionTokens("""{"id":"x","choices":[{"completion_tokens":99}],"usage":{"prompt_tokens":7,"completion_tokens":16}}"""u8));
        Assert.Equal(0, Usage.CompletionTokens("""{"choices":[]}"""u8));
        Assert.Equal(0, Usage.CompletionTokens("not json"u8));
    }

    [Fact]
    public void Prometheus_gauges_are_summed_over_label_sets()
    {
        const string text = """
            # HELP vllm:num_requests_waiting Waiting
            vllm:num_requests_waiting{model_name="a"} 3
            vllm:num_requests_waiting{model_name="b"} 2.0
            vllm:num_requests_waiting_total 100
            vllm:num_requests_running 4
            """;
        Assert.Equal(5, EndpointProber.Gauge(text, "vllm:num_requests_waiting"));
        Assert.Equal(4, EndpointProber.Gauge(text, "vllm:num_requests_running"));
        Assert.Null(EndpointProber.Gauge(text, "vllm:kv_cache_usage_perc"));
    }
}
