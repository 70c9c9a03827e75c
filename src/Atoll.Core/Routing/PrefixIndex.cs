using System.Collections.Concurrent;

namespace Atoll.Core.Routing;

/// <summary>
/// What the gateway itself sent to each endpoint: a per-endpoint LRU of prompt block hashes, the approximate view
/// of that endpoint's prefix cache. Safe for concurrent use; each endpoint's LRU has its own lock.
/// </summary>
public sealed class PrefixIndex
{
    public const int DefaultBlocksPerEndpoint = 10_000;

    private readonly ConcurrentDictionary<string, BlockLru> byEndpoint = new(StringComparer.Ordinal);
    private readonly Func<string, BlockLru> create;

    public PrefixIndex(int blocksPerEndpoint = DefaultBlocksPerEndpoint)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocksPerEndpoint, 1);
        BlocksPerEndpoint = blocksPerEndpoint;
        create = _ => new BlockLru(blocksPerEndpoint);
    }

    public int BlocksPerEndpoint { get; }

    /// <summary>Remembers that a prompt with these block hashes was sent to the endpoint.</summary>
    public void Record(string endpointId, IReadOnlyList<ulong> hashes)
    {
        if (hashes.Count == 0)
            return;
        var lru = byEndpoint.GetOrAdd(endpointId, create);
        lock (lru)
        {
            // Leading blocks are touched last so they are the freshest: losing block 0 would void every match.
            for (var i = hashes.Count - 1; i >= 0; i--)
                lru.Touch(hashes[i]);
        }
    }

    /// <summary>How many leading blocks of the prompt the endpoint has been sent before.</summary>
    public int MatchedBlocks(string endpointId, IReadOnlyList<ulong> hashes)
    {
        if (hashes.Count == 0 || !byEndpoint.TryGetValue(endpointId, out var lru))
            return 0;
        lock (lru)
        {
            var matched = 0;
            while (matched < hashes.Count && lru.Contains(hashes[matched]))
                matched++;
            return matched;
        }
    }

    /// <summary>
    /// Sizes the endpoint's history to what its server can actually keep (from its reported KV-cache size), at most
    /// <see cref="BlocksPerEndpoint"/>: remembering more than the server holds would send prompts to an endpoint
    /// that has long evicted their prefix. Returns the size used.
    /// </summary>
    public int SetCapacity(string endpointId, long blocks)
    {
        var size = (int)Math.Clamp(blocks, 1, BlocksPerEndpoint);
        var lru = byEndpoint.GetOrAdd(endpointId, create);
        lock (lru)
            lru.Capacity = size;
        return size;
    }

    /// <summary>How many blocks the endpoint's history holds at most.</summary>
    public int Capacity(string endpointId)
    {
        if (!byEndpoint.TryGetValue(endpointId, out var lru))
            return BlocksPerEndpoint;
        lock (lru)
            return lru.Capacity;
    }

    /// <summary>Blocks remembered for the endpoint.</summary>
    public int Count(string endpointId)
    {
        if (!byEndpoint.TryGetValue(endpointId, out var lru))
            return 0;
        lock (lru)
            return lru.Count;
    }

    /// <summary>Drops the endpoint's history (it left, or its server restarted with an empty cache).</summary>
    public void Forget(string endpointId) => byEndpoint.TryRemove(endpointId, out _);
}
