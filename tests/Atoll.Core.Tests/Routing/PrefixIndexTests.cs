using Atoll.Core.Routing;

namespace Atoll.Core.Tests.Routing;

public sealed class PrefixIndexTests
{
    [Fact]
    public void Matches_leading_blocks_only_and_per_endpoint()
    {
        var index = new PrefixIndex();
        index.Record("a", [1, 2, 3]);

        Assert.Equal(3, index.MatchedBlocks("a", [1, 2, 3, 4]));
        Assert.Equal(2, index.MatchedBlocks("a", [1, 2, 9, 3]));
        Assert.Equal(0, index.MatchedBlocks("a", [9, 2, 3]));
        Assert.Equal(0, index.MatchedBlocks("b", [1, 2, 3]));
        Assert.Equal(0, index.MatchedBlocks("a", []));
    }

    [Fact]
    public void Least_recently_recorded_blocks_are_evicted_at_capacity()
    {
        var index = new PrefixIndex(blocksPerEndpoint: 4);
        index.Record("a", [1, 2]);
        index.Record("a", [3, 4]);
        index.Record("a", [1]);      // 1 is fresh again; 2 is now the oldest
        index.Record("a", [5]);

        Assert.Equal(4, index.Count("a"));
        Assert.Equal(1, index.MatchedBlocks("a", [1, 2]));
        Assert.Equal(2, index.MatchedBlocks("a", [3, 4]));
        Assert.Equal(1, index.MatchedBlocks("a", [5]));
    }

    [Fact]
    public void Leading_blocks_of_a_long_prompt_survive_longest()
    {
        var index = new PrefixIndex(blocksPerEndpoint: 3);
        index.Record("a", [1, 2, 3]);
        index.Record("a", [7]);

        Assert.Equal(2, index.MatchedBlocks("a", [1, 2, 3]));
    }

    [Fact]
    public void Stays_bounded_under_many_records_and_forget_drops_history()
    {
        var index = new PrefixIndex(blocksPerEndpoint: 100);
        for (ulong i = 0; i < 10_000; i++)
            index.Record("a", [i, i + 1_000_000]);
        Assert.Equal(100, index.Count("a"));
        Assert.Equal(1, index.MatchedBlocks("a", [9_999]));

        index.Forget("a");
        Assert.Equal(0, index.Count("a"));
        Assert.Equal(0, index.MatchedBlocks("a", [9_999]));
    }

    [Fact]
    public void Sizing_an_endpoint_to_its_server_keeps_only_the_most_recent_blocks()
    {
        var index = new PrefixIndex(blocksPerEndpoint: 100);
        for (ulong i = 0; i < 10; i++)
            index.Record("a", [i * 10, (i * 10) + 1]); // ten 2-block prompts, the last most recent

        Assert.Equal(4, index.SetCapacity("a", 4));
        Assert.Equal(4, index.Count("a"));
        Assert.Equal(2, index.MatchedBlocks("a", [90, 91]));
        Assert.Equal(2, index.MatchedBlocks("a", [80, 81]));
        Assert.Equal(0, index.MatchedBlocks("a", [70, 71]));

        index.Record("a", [5, 6]); // evicts the older of the two kept
        Assert.Equal(0, index.MatchedBlocks("a", [80, 81]));
        Assert.Equal(2, index.MatchedBlocks("a", [90, 91]));
        Assert.Equal(4, index.Capacity("a"));

        Assert.Equal(100, index.SetCapacity("a", 1_000_000)); // never above the configured bound
        Assert.Equal(1, index.SetCapacity("b", 0));
        Assert.Equal(100, index.Capacity("unknown"));
    }
}
