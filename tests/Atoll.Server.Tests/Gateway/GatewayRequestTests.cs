using System.Text;
using Atoll.Core.Routing;
using Atoll.Server.Gateway;

namespace Atoll.Server.Tests.Gateway;

public sealed class GatewayRequestTests
{
    private static (GatewayRequest? Request, string? Error, string? Param) Parse(string json, GatewayRoute route = GatewayRoute.ChatCompletions) =>
        GatewayRequest.Parse(Encoding.UTF8.GetBytes(json), route);

    [Fact]
    public void Chat_request_yields_model_stream_flag_and_prompt_text_in_message_order()
    {
        var system = new string('s', 70);
        var (request, error, _) = Parse($$"""
            {"model":"llama","stream":true,"messages":[
              {"role":"system","content":"{{system}}"},
              {"content":[{"type":"text","text":"Hello"},{"text":"world","type":"text"}],"role":"user"}]}
            """);
        Assert.Null(error);
        Assert.Equal("llama", request!.Model);
        Assert.True(request.Stream);
        AssertPrompt($"system: {system}\nuser: Hello\nworld\n", request);
    }

    [Theory]
    [InlineData("\"max_tokens\":300", 300)]
    [InlineData("\"max_completion_tokens\":50", 50)]
    [InlineData("\"max_tokens\":0", null)]
    [InlineData("\"max_tokens\":\"300\"", null)]
    [InlineData("\"max_tokens\":1e12", null)]
    [InlineData("\"temperature\":1", null)]
    [InlineData("\"max_completion_tokens\":500,\"max_tokens\":20", 500)] // as vLLM: max_completion_tokens wins, in either order
    [InlineData("\"max_tokens\":20,\"max_completion_tokens\":500", 500)]
    public void The_answers_token_limit_is_read_when_it_is_a_positive_integer(string property, int? expected)
    {
        var (request, error, _) = Parse($$"""{"model":"m",{{property}},"messages":[{"role":"user","content":"hi"}]}""");
        Assert.Null(error);
        Assert.Equal(expected, request!.MaxTokens);
    }

    [Fact]
    public void A_non_streaming_answer_may_take_its_tokens_at_the_minimum_rate_on_top_of_the_first_byte_timeout()
    {
        var options = new GatewayOptions { FirstByteTimeout = TimeSpan.FromSeconds(30), ResponseTimeout = TimeSpan.FromMinutes(5), MinTokensPerSecond = 10 };

        Assert.Equal(TimeSpan.FromSeconds(130), options.FirstByteTimeoutFor(stream: false, GatewayRoute.ChatCompletions, 1000));
        Assert.Equal(TimeSpan.FromSeconds(31), options.FirstByteTimeoutFor(stream: false, GatewayRoute.Completions, 10));
        // Streams send their headers and first chunk early; embeddings generate nothing.
        Assert.Equal(TimeSpan.FromSeconds(30), options.FirstByteTimeoutFor(stream: true, GatewayRoute.ChatCompletions, 1000));
        Assert.Equal(TimeSpan.FromSeconds(30), options.FirstByteTimeoutFor(stream: false, GatewayRoute.Embeddings, null));
        // No limit given, or one too large: the response timeout bounds it.
        Assert.Equal(TimeSpan.FromMinutes(5), options.FirstByteTimeoutFor(stream: false, GatewayRoute.ChatCompletions, null));
        Assert.Equal(TimeSpan.FromMinutes(5), options.FirstByteTimeoutFor(stream: false, GatewayRoute.ChatCompletions, 1_000_000));
    }

    [Fact]
    public void Prompt_is_hashed_from_the_unescaped_text_and_other_fields_do_not_count()
    {
        // JSON escapes, as a client may send them.
        var text = string.Concat(Enumerable.Repeat(@"caf\u00e9 \""quoted\"" \\ line\n", 12));
        var (request, _, _) = Parse($$"""{"messages":[{"role":"user","name":"x","content":"{{text}}"}],"temperature":0.5,"model":"m","stream":false}""");
        Assert.False(request!.Stream);
        AssertPrompt("user: " + string.Concat(Enumerable.Repeat("café \"quoted\" \\ line\n", 12)) + "\n", request);
        Assert.Equal(request.PrefixHashes, Parse($$"""{"model":"m","messages":[{"content":"{{text}}","role":"user"}]}""").Request!.PrefixHashes);
        Assert.NotEqual(request.PrefixHashes, Parse($$"""{"model":"m","messages":[{"role":"system","content":"{{text}}"}]}""").Request!.PrefixHashes);
    }

    [Fact]
    public void Completion_prompts_are_hashed_one_string_per_line()
    {
        var line = new string('p', 40);
        var (request, _, _) = Parse($$"""{"model":"m","prompt":["{{line}}","{{line}}"]}""", GatewayRoute.Completions);
        AssertPrompt($"{line}\n{line}\n", request!);
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} {}")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],}")]
    [InlineData("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]")]
    [InlineData("")]
    public void Anything_but_one_well_formed_json_value_is_a_parse_error(string json)
    {
        var (request, error, _) = Parse(json);
        Assert.Null(request);
        Assert.StartsWith("We could not parse the JSON body of your request", error);
    }

    [Fact]
    public void A_parse_error_says_where_in_terms_of_lines_and_bytes_counted_from_one()
    {
        var (_, error, _) = Parse("{\"model\":\"m\",\n \"messages\":[}");
        Assert.Equal("We could not parse the JSON body of your request: '}' is an invalid start of a value (line 2, byte 14).", error);
    }

    [Fact]
    public void A_repeated_property_counts_as_its_last()
    {
        var (request, _, _) = Parse("""{"model":"a","model":"b","messages":[],"messages":[{"role":"user","content":"x"}]}""");
        Assert.Equal("b", request!.Model);
        Assert.Equal(Encoding.UTF8.GetByteCount("user: x\n"), request.PromptBytes);
    }

    [Fact]
    public void In_a_message_the_last_content_counts_whatever_the_order_and_content_comes_before_text()
    {
        var last = new string('L', 70);
        var (request, error, _) = Parse($$"""
            {"model":"m","messages":[
              {"content":"first","name":"x","content":"{{last}}","role":"user"},
              {"text":"ignored","role":"assistant","content":[{"text":"a","type":"text","text":"b"}]}]}
            """);
        Assert.Null(error);
        AssertPrompt($"user: {last}\nassistant: b\n", request!);
    }

    private static void AssertPrompt(string expected, GatewayRequest request)
    {
        var bytes = Encoding.UTF8.GetBytes(expected);
        Assert.True(bytes.Length >= PrefixHasher.BlockChars, "the test prompt must fill a block to be hashed");
        Assert.Equal(bytes.Length, request.PromptBytes);
        Assert.Equal(PrefixHasher.HashUtf8(bytes), request.PrefixHashes);
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", "you must provide a model parameter")]
    [InlineData("{\"model\":\"m\"}", "messages", "'messages' is a required property")]
    [InlineData("{\"model\":\"m\",\"messages\":[]}", "messages", "non-empty array")]
    [InlineData("{\"model\":\"m\",\"messages\":", null, "could not parse the JSON")]
    [InlineData("[1,2]", null, "must be a JSON object")]
    [InlineData("{\"model\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", "'model' must be a string, not a number")]
    [InlineData("{\"model\":[\"m\"],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", "'model' must be a string, not an array")]
    [InlineData("{\"model\":\" \",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", "'model' must not be empty")]
    [InlineData("{\"model\":null,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model", "you must provide a model parameter")]
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
        Assert.Equal(4, Parse("{\"model\":\"m\",\"input\":[\"a\",\"b\"]}", GatewayRoute.Embeddings).Request!.PromptBytes);
    }

    [Fact]
    public void Completion_tokens_are_read_from_usage_only()
    {
        Assert.Equal(16, Usage.CompletionTokens("""{"id":"x","choices":[{"completion_tokens":99}],"usage":{"prompt_tokens":7,"completion_tokens":16}}"""u8));
        Assert.Equal(0, Usage.CompletionTokens("""{"choices":[]}"""u8));
        Assert.Equal(0, Usage.CompletionTokens("not json"u8));
    }

    [Fact]
    public void Completion_tokens_come_from_the_top_level_usage_wherever_it_is()
    {
        // Pretty-printed, usage last: read from the end.
        Assert.Equal(5, Usage.CompletionTokens("{\n  \"choices\": [],\n  \"usage\" : {\n    \"prompt_tokens\": 2,\n    \"completion_tokens\": 5\n  }\n}\n"u8));
        // A nested "usage" after the top-level one is not it.
        Assert.Equal(3, Usage.CompletionTokens("""{"usage":{"completion_tokens":3},"choices":[{"usage":{"completion_tokens":9}}]}"""u8));
        // Usage text inside the model's answer is a string, not a property.
        Assert.Equal(7, Usage.CompletionTokens("""{"choices":[{"message":{"content":"say \"usage\":{\"completion_tokens\":1}"}}],"usage":{"completion_tokens":7}}"""u8));
        // Details after the count, and a usage without one.
        Assert.Equal(4, Usage.CompletionTokens("""{"usage":{"completion_tokens":4,"completion_tokens_details":{"completion_tokens":8}}}"""u8));
        Assert.Equal(0, Usage.CompletionTokens("""{"usage":{"prompt_tokens":4}}"""u8));
        // A key that only ends in usage (its quote escaped), and a repeated usage key: the first top-level one counts.
        Assert.Equal(7, Usage.CompletionTokens("""{"usage":{"completion_tokens":7},"a\"usage":{"completion_tokens":1}}"""u8));
        Assert.Equal(3, Usage.CompletionTokens("""{"usage":{"completion_tokens":3},"usage":{"completion_tokens":9}}"""u8));
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

    [Theory]
    [InlineData("vllm:cache_config_info{block_size=\"16\",cache_dtype=\"auto\",enable_prefix_caching=\"True\",gpu_memory_utilization=\"0.9\",num_gpu_blocks=\"27000\"} 1.0", 432_000L)]
    [InlineData("vllm:cache_config_info{num_gpu_blocks=\"96\", block_size=\"16\"} 1", 1_536L)]
    [InlineData("vllm:cache_config_info{block_size=\"16\",enable_prefix_caching=\"False\",num_gpu_blocks=\"96\"} 1", null)]
    [InlineData("vllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"None\"} 1", null)]
    [InlineData("vllm:num_requests_waiting 3", null)]
    public void The_kv_cache_size_is_read_from_vllm_cache_config_info(string line, long? tokens)
    {
        var text = "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n" + line + "\nvllm:num_requests_running 1\n";
        Assert.Equal(tokens, EndpointProber.CacheTokens(text));
    }
}
