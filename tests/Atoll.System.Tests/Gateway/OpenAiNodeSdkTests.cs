using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// The official OpenAI Node SDK (npm <c>openai</c>, installed by <c>scripts/test-services.sh</c>) works against the
/// gateway unchanged: every endpoint, streaming and not, and the errors it raises for the gateway's error answers.
/// The SDK runs in <c>openai-node-sdk.mjs</c>; this test starts the fleet and checks what the script printed.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiNodeSdkTests
{
    private const string Broken = "broken-model";

    [Fact]
    public async Task Official_node_sdk_chats_streams_lists_completes_embeds_and_raises_the_gateways_errors()
    {
        var sdk = Environment.GetEnvironmentVariable("ATOLL_TEST_OPENAI_NODE");
        Assert.True(!string.IsNullOrEmpty(sdk) && Directory.Exists(Path.Combine(sdk, "node_modules", "openai")),
            "ATOLL_TEST_OPENAI_NODE does not name an npm prefix holding the openai package: run ./test.sh, or scripts/test-services.sh start DIR");
        // The broken endpoint fails once for the stream and up to the attempts of one request after it; an ejection
        // before that request would turn its 502 into a 503.
        Assert.True(new Atoll.Core.Routing.EjectionOptions().ConsecutiveFailures >= 2,
            "this test expects the default ejection threshold to let a failed stream be followed by a 502");
        using var dir = new TempDirectory("gateway-node-sdk");
        await using var ok = RunningSim.Start(Chat.Model, "ok", dir.Path);
        await using var broken = RunningSim.Start(Broken, "broken", dir.Path, "--failure-rate", "1", "--failure-kinds", "midstream");
        await Task.WhenAll(ok.WaitHealthyAsync(), broken.WaitHealthyAsync());
        await using var server = await GatewayServer.StartAsync(dir.Combine("server"), [ok, broken]);
        var key = await server.CreateApiKeyAsync("node-sdk");

        var steps = await RunScriptAsync(sdk!, server, key);

        // What the sim itself answers to the same request: the gateway must hand it over unchanged.
        using var direct = new HttpClient();
        using var answer = await direct.PostAsJsonAsync(new Uri($"{ok.Url}/v1/chat/completions"), new
        {
            model = Chat.Model, messages = new[] { new { role = "user", content = "Describe the lagoon at dawn." } }, max_tokens = 6,
        });
        using var expected = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        var expectedContent = expected.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        using var embeddingAnswer = await direct.PostAsJsonAsync(new Uri($"{ok.Url}/v1/embeddings"), new { model = Chat.Model, input = "hello" });
        using var expectedEmbedding = JsonDocument.Parse(await embeddingAnswer.Content.ReadAsStringAsync());
        var expectedVector = expectedEmbedding.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToList();

        var chat = steps["chat"];
        Assert.Equal(expectedContent, chat.GetProperty("content").GetString());
        Assert.Equal("length", chat.GetProperty("finish").GetString());
        Assert.Equal(6, chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var stream = steps["stream"];
        Assert.Equal(expectedContent, stream.GetProperty("content").GetString());
        // The sim sends a token per event: a gateway that buffered the stream into one event would show here.
        Assert.True(stream.GetProperty("contentEvents").GetInt32() >= 4, $"a stream of one or few events: {stream}");
        Assert.Equal("length", stream.GetProperty("finish").GetString());
        Assert.Equal(6, stream.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var ids = steps["models"].GetProperty("ids").EnumerateArray().Select(i => i.GetString()).ToList();
        Assert.Contains(Chat.Model, ids);
        Assert.Contains(Broken, ids);

        var completion = steps["completions"];
        Assert.Equal(4, completion.GetProperty("text").GetString()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(4, completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var vector = steps["embeddings"].GetProperty("embedding").EnumerateArray().Select(v => v.GetDouble()).ToList();
        Assert.NotEmpty(expectedVector);
        Assert.Equal(expectedVector.Count, vector.Count);
        for (var i = 0; i < vector.Count; i++)
        {
            Assert.True(Math.Abs(expectedVector[i] - vector[i]) <= 1e-6 * Math.Max(1, Math.Abs(expectedVector[i])),
                $"embedding[{i}]: the sim says {expectedVector[i]}, the SDK read {vector[i]} through the gateway");
        }

        AssertError(steps["unknown model"], "NotFoundError", 404, "model_not_found", "`no-such-model` does not exist");
        AssertError(steps["wrong key"], "AuthenticationError", 401, "invalid_api_key", "Incorrect API key");
        // A stream the model server broke: the SDK throws with the gateway's error event, never ends it as complete.
        AssertError(steps["broken stream"], "APIError", null, "upstream_failed", "failed mid-stream");
        AssertError(steps["broken"], "InternalServerError", 502, "upstream_failed", "failed");
    }

    private static void AssertError(JsonElement step, string error, int? status, string code, string message)
    {
        Assert.True(step.GetProperty("error").ValueKind == JsonValueKind.String, $"the SDK raised no error: {step}");
        Assert.Equal(error, step.GetProperty("error").GetString());
        Assert.Equal(status, step.GetProperty("status").ValueKind == JsonValueKind.Number ? step.GetProperty("status").GetInt32() : null);
        Assert.Equal(code, step.GetProperty("code").GetString());
        Assert.Contains(message, step.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Runs the script with node and returns its steps by name; fails with its output if it fails.</summary>
    private static async Task<Dictionary<string, JsonElement>> RunScriptAsync(string sdk, GatewayServer server, string key)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gateway", "openai-node-sdk.mjs"));
        start.Environment["OPENAI_NODE"] = sdk;
        start.Environment["BASE"] = server.Url + "/v1";
        start.Environment["KEY"] = key;
        start.Environment["MODEL"] = Chat.Model;
        start.Environment["BROKEN"] = Broken;
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            Assert.Fail($"the Node SDK script did not finish within 90 s:\n{await stdout}\n{await stderr}");
        }
        var output = await stdout;
        Assert.True(node.ExitCode == 0, $"the Node SDK script failed (exit {node.ExitCode}):\n{output}\n{await stderr}");
        var steps = new Dictionary<string, JsonElement>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var step = JsonDocument.Parse(line);
            steps.Add(step.RootElement.GetProperty("step").GetString()!, step.RootElement.Clone());
        }
        return steps;
    }
}
