using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Atoll.System.Tests.Gateway;

/// <summary>The official OpenAI .NET SDK works against the gateway unchanged, streaming and not.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiClientTests(SharedGatewayFixture shared)
{
    [Fact]
    public async Task Official_client_gets_the_same_answer_streaming_and_not_through_the_gateway()
    {
        var key = await shared.Server.CreateApiKeyAsync($"sdk-{Guid.NewGuid():N}");
        var client = Client(shared.Server, key);
        ChatMessage[] messages = [new UserChatMessage("Describe the lagoon at dawn.")];
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 8 };

        var result = await client.CompleteChatAsync(messages, options);
        // The SDK sends its body with a Content-Length, so a connection of its chat requests is the front's.
        Assert.False(result.GetRawResponse().Headers.TryGetValue("Server", out var server), $"answered by {server}, not the gateway's front");
        ChatCompletion completion = result.Value;
        var text = Assert.Single(completion.Content).Text;
        Assert.Equal(8, text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);

        var streamed = new StringBuilder();
        var contentUpdates = 0;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            if (update.ContentUpdate.Count > 0)
            {
                contentUpdates++;
            }
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
            finish ??= update.FinishReason;
        }
        // The sim sends a token per event: a gateway that re-chunked or buffered into one event would show here.
        Assert.True(contentUpdates >= 4, $"expected a stream of several content updates, got {contentUpdates}");
        Assert.Equal(text, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
    }

    [Fact]
    public async Task Official_client_accepts_the_admin_token_as_its_api_key()
    {
        var client = Client(shared.Server, shared.Server.AdminToken);

        ChatCompletion completion = await client.CompleteChatAsync(
            [new UserChatMessage("hello")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });

        Assert.Equal(3, Assert.Single(completion.Content).Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Official_client_lists_and_retrieves_the_served_model_and_gets_not_found_for_another()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(shared.Server.AdminToken), Options(shared.Server));

        Assert.Contains(Chat.Model, (await models.GetModelsAsync()).Value.Select(m => m.Id));
        OpenAIModel model = await models.GetModelAsync(Chat.Model);
        Assert.Equal(Chat.Model, model.Id);
        Assert.Equal("atoll", model.OwnedBy);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("org/no-such-model"));
        Assert.Equal(404, missing.Status);
        Assert.Contains("`org/no-such-model` does not exist", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A chat client for the gateway that does not retry, so every failure shows. It sends through
    /// <see cref="GatewayServer.Forward"/>, whose connections carry forwarded requests only, as an application's
    /// would: the SDK's default transport is one HttpClient shared by every client in the process, whose connections
    /// the model-listing test hands to Kestrel.
    /// </summary>
    internal static ChatClient Client(GatewayServer server, string apiKey) =>
        new(Chat.Model, new ApiKeyCredential(apiKey), Options(server, new HttpClientPipelineTransport(server.Forward)));

    private static OpenAIClientOptions Options(GatewayServer server, PipelineTransport? transport = null) => new()
    {
        Transport = transport,
        Endpoint = new Uri(server.Url + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(30),
    };
}
