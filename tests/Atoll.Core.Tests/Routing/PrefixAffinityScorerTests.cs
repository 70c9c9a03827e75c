using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class PrefixAffinityScorerTests
{
    private readonly FakeTimeProvider time = new();
    private readonly PrefixIndex index = new();

    private double Score(RoutingRequest request, RoutableEndpoint endpoint) =>
        new PrefixAffinityScorer(index).Score(request, endpoint, new ScoringContext(time.GetUtcNow(), [endpoint]));

    [Fact]
    public void Scores_the_share_of_leading_blocks_sent_before()
    {
        var endpoint = TestEndpoints.Create("a", time);
        var system = new string('s', 2 * PrefixHasher.BlockChars);
        index.Record("a", PrefixHasher.Hash(system + new string('x', 2 * PrefixHasher.BlockChars)));

        Assert.Equal(0.5, Score(RoutingRequest.ForPrompt("llama", system + new string('y', 2 * PrefixHasher.BlockChars)), endpoint), 9);
        Assert.Equal(1, Score(RoutingRequest.ForPrompt("llama", system), endpoint), 9);
        Assert.Equal(0, Score(RoutingRequest.ForPrompt("llama", new string('z', 4 * PrefixHasher.BlockChars)), endpoint));
    }

    [Fact]
    public void No_prompt_or_no_history_scores_zero()
    {
        var endpoint = TestEndpoints.Create("a", time);
        Assert.Equal(0, Score(RoutingRequest.ForPrompt("llama", null), endpoint));
        Assert.Equal(0, Score(RoutingRequest.ForPrompt("llama", "short"), endpoint));
        Assert.Equal(0, Score(RoutingRequest.ForPrompt("llama", new string('q', 500)), endpoint));
    }
}
