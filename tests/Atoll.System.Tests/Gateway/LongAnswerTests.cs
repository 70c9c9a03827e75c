using System.Diagnostics;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// A model server sends a non-streaming answer's headers only once it has generated all of it: the gateway must
/// wait for that (as long as max_tokens asks for), not count the generation against its first-byte timeout.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class LongAnswerTests
{
    [Fact]
    public async Task A_non_streaming_answer_longer_than_the_first_byte_timeout_arrives_whole()
    {
        using var dir = new TempDirectory("gateway-long");
        // 60 tokens at 50 ms: 3 s of generation against a first-byte timeout of 1 s.
        await using var fleet = await GatewayFleet.StartAsync(dir, [["--itl", "50"]], "--first-byte-timeout", "1s");

        var took = Stopwatch.StartNew();
        using var response = await fleet.Server.PostChatAsync(Chat.Request("a long answer, please", 60), fleet.Server.AdminToken);

        Chat.AssertComplete(response.StatusCode, await response.Content.ReadAsStringAsync(), 60);
        Assert.True(took.Elapsed > TimeSpan.FromSeconds(2), $"the answer took only {took.Elapsed.TotalSeconds:0.0} s: the test did not outlast the timeout");
        Assert.Equal(0, await fleet.Server.MetricAsync("atoll_gateway_retries_total"));
    }
}
