namespace Atoll.Sim;

/// <summary>
/// Automatic prefix caching in the way of vLLM: the prompt is cut into fixed blocks, each block's key chains
/// the previous one (so a block only matches behind the same prefix), and an LRU of keys stands for the KV
/// blocks kept on the GPU. Only leading hits count: the first miss ends the reusable prefix.
/// </summary>
internal sealed class PrefixCache(int capacityBlocks)
{
    private readonly Dictionary<ulong, LinkedListNode<ulong>> index = [];
    private readonly LinkedList<ulong> recency = new();
    private readonly Lock gate = new();

    public int Count
    {
        get
        {
            lock (gate)
            {
                return index.Count;
            }
        }
    }

    /// <summary>Returns how many leading full blocks of <paramref name="prompt"/> were cached, then caches all of them.</summary>
    public int LookupAndInsert(string model, string prompt)
    {
        if (capacityBlocks == 0)
        {
            return 0;
        }
        var blocks = prompt.Length / SimOptions.PrefixBlockChars;
        var keys = new ulong[blocks];
        var hash = StableHash.Of(model);
        for (var i = 0; i < blocks; i++)
        {
            hash = StableHash.Combine(hash, prompt.AsSpan(i * SimOptions.PrefixBlockChars, SimOptions.PrefixBlockChars));
            keys[i] = hash;
        }
        lock (gate)
        {
            var hits = 0;
            while (hits < blocks && index.ContainsKey(keys[hits]))
            {
                hits++;
            }
            // Touch from the last block to the first, so the leading blocks, which more prompts share, are evicted last.
            for (var i = blocks - 1; i >= 0; i--)
            {
                Touch(keys[i]);
            }
            return hits;
        }
    }

    private void Touch(ulong key)
    {
        if (index.TryGetValue(key, out var node))
        {
            recency.Remove(node);
            recency.AddFirst(node);
            return;
        }
        index[key] = recency.AddFirst(key);
        if (index.Count > capacityBlocks)
        {
            var oldest = recency.Last!;
            recency.RemoveLast();
            index.Remove(oldest.Value);
        }
    }
}
