using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Atoll.Sim.Tests;

/// <summary>The official OpenAI .NET client talks to the simulator as to OpenAI.</summary>
public class OpenAiClientTests
{
    private static ChatClient Chat(SimHost sim) =>
        new("sim-model", new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = sim.OpenAiEndpoint });

    private static async Task<(string Text, ChatTokenUsage? Usage, ChatFinishReason? Finish, ChatMessageRole? Role)> StreamAsync(ChatClient client, string prompt, int maxTokens)
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        ChatMessageRole? role = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(prompt)], new ChatCompletionOptions { MaxOutputTokenCount = maxTokens }))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage ??= update.Usage;
            finish ??= update.FinishReason;
            role ??= update.Role;
        }
        return (text.ToString(), usage, finish, role);
    }

    [Fact]
    public async Task Chat_completes_and_the_streamed_text_equals_the_non_streamed_text_for_the_same_request()
    {
        await using var sim = await SimHost.StartAsync();
        var client = Chat(sim);

        ChatCompletion whole = await client.CompleteChatAsync(
            [new UserChatMessage("Tell me about atolls")], new ChatCompletionOptions { MaxOutputTokenCount = 8 });
        var streamed = await StreamAsync(client, "Tell me about atolls", 8);

        var text = whole.Content[0].Text;
        Assert.Equal(8, text.Split(' ').Length);
        Assert.Equal(ChatMessageRole.Assistant, whole.Role);
        Assert.Equal(ChatFinishReason.Length, whole.FinishReason);
        Assert.Equal("sim-model", whole.Model);
        Assert.Equal(8, whole.Usage.OutputTokenCount);
        Assert.True(whole.Usage.InputTokenCount > 0);
        Assert.Equal(whole.Usage.InputTokenCount + 8, whole.Usage.TotalTokenCount);

        Assert.Equal(text, streamed.Text);
        Assert.Equal(ChatFinishReason.Length, streamed.Finish);
        Assert.Equal(ChatMessageRole.Assistant, streamed.Role);
        // The client asks for stream_options.include_usage itself.
        Assert.NotNull(streamed.Usage);
        Assert.Equal(8, streamed.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Output_depends_on_the_prompt_and_is_the_same_on_every_instance()
    {
        await using var a = await SimHost.StartAsync();
        await using var b = await SimHost.StartAsync();

        ChatCompletion onA = await Chat(a).CompleteChatAsync([new UserChatMessage("hello")], new ChatCompletionOptions { MaxOutputTokenCount = 12 });
        ChatCompletion onB = await Chat(b).CompleteChatAsync([new UserChatMessage("hello")], new ChatCompletionOptions { MaxOutputTokenCount = 12 });
        ChatCompletion other = await Chat(a).CompleteChatAsync([new UserChatMessage("goodbye")], new ChatCompletionOptions { MaxOutputTokenCount = 12 });
        ChatCompletion shorter = await Chat(b).CompleteChatAsync([new UserChatMessage("hello")], new ChatCompletionOptions { MaxOutputTokenCount = 4 });

        Assert.Equal(onA.Content[0].Text, onB.Content[0].Text);
        Assert.NotEqual(onA.Content[0].Text, other.Content[0].Text);
        Assert.StartsWith(shorter.Content[0].Text + " ", onA.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_max_tokens_the_default_length_is_used_and_the_finish_reason_is_stop()
    {
        var options = SimHost.Instant();
        options.DefaultMaxTokens = 5;
        await using var sim = await SimHost.StartAsync(options);

        ChatCompletion completion = await Chat(sim).CompleteChatAsync(new UserChatMessage("hi"));

        Assert.Equal(5, completion.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task Max_tokens_is_capped_by_the_max_output_tokens_setting()
    {
        var options = SimHost.Instant();
        options.MaxOutputTokens = 20;
        await using var sim = await SimHost.StartAsync(options);

        ChatCompletion completion = await Chat(sim).CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 500 });

        Assert.Equal(20, completion.Usage.OutputTokenCount);
        Assert.Equal(20, completion.Content[0].Text.Split(' ').Length);
    }

    [Fact]
    public async Task Embeddings_are_deterministic_unit_vectors_of_the_configured_dimension()
    {
        await using var sim = await SimHost.StartAsync();
        var client = new EmbeddingClient("sim-model", new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = sim.OpenAiEndpoint });

        // The .NET client asks for base64, so this covers that encoding.
        OpenAIEmbeddingCollection batch = await client.GenerateEmbeddingsAsync(["coral reef", "lagoon", "coral reef"]);

        Assert.Equal(3, batch.Count);
        var first = batch[0].ToFloats().ToArray();
        Assert.Equal(16, first.Length);
        Assert.Equal(1.0, Math.Sqrt(first.Sum(x => (double)x * x)), 4);
        Assert.Equal(first, batch[2].ToFloats().ToArray());
        Assert.NotEqual(first, batch[1].ToFloats().ToArray());
        Assert.True(batch.Usage.InputTokenCount > 0);

        OpenAIEmbedding shortOne = await client.GenerateEmbeddingAsync("coral reef", new EmbeddingGenerationOptions { Dimensions = 4 });
        Assert.Equal(4, shortOne.ToFloats().Length);
    }

    [Fact]
    public async Task The_served_model_is_listed()
    {
        var options = SimHost.Instant();
        options.Model = "llama-sim";
        await using var sim = await SimHost.StartAsync(options);
        var client = new OpenAIModelClient(new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = sim.OpenAiEndpoint });

        OpenAIModelCollection models = await client.GetModelsAsync();

        var model = Assert.Single(models);
        Assert.Equal("llama-sim", model.Id);
        Assert.Equal("atoll-sim", model.OwnedBy);
    }
}
