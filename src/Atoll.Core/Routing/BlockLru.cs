namespace Atoll.Core.Routing;

/// <summary>
/// Bounded least-recently-used set of block hashes. Slots live in parallel arrays linked by index, so an entry
/// costs a dictionary entry and 16 bytes rather than a linked-list node object. Not thread-safe; the owner locks.
/// </summary>
internal sealed class BlockLru(int capacity)
{
    private int capacity = capacity;

    private readonly Dictionary<ulong, int> slots = [];
    private ulong[] keys = [];
    private int[] previous = [];
    private int[] next = [];
    private int head = -1;
    private int tail = -1;

    public int Count => slots.Count;

    /// <summary>How many keys it holds at most; lowering it drops the least recently used beyond the new limit.</summary>
    public int Capacity
    {
        get => capacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            if (value == capacity)
                return;
            // Rebuilt in order (rare: a server reports its cache size when it starts): slots stay compact.
            var kept = new List<ulong>(Math.Min(value, slots.Count));
            for (var slot = head; slot >= 0 && kept.Count < value; slot = next[slot])
                kept.Add(keys[slot]);
            capacity = value;
            slots.Clear();
            keys = [];
            previous = [];
            next = [];
            head = tail = -1;
            for (var i = kept.Count - 1; i >= 0; i--)
                Touch(kept[i]);
        }
    }

    public bool Contains(ulong key) => slots.ContainsKey(key);

    /// <summary>Adds the key or marks it most recently used, evicting the least recently used when full.</summary>
    public void Touch(ulong key)
    {
        if (slots.TryGetValue(key, out var slot))
        {
            Unlink(slot);
            LinkFirst(slot);
            return;
        }
        if (slots.Count < capacity)
        {
            slot = slots.Count;
            Grow(slot + 1);
        }
        else
        {
            slot = tail;
            Unlink(slot);
            slots.Remove(keys[slot]);
        }
        keys[slot] = key;
        slots[key] = slot;
        LinkFirst(slot);
    }

    private void Grow(int needed)
    {
        if (needed <= keys.Length)
            return;
        var size = (int)Math.Min(capacity, Math.Max(16L, keys.Length * 2L));
        Array.Resize(ref keys, size);
        Array.Resize(ref previous, size);
        Array.Resize(ref next, size);
    }

    private void LinkFirst(int slot)
    {
        previous[slot] = -1;
        next[slot] = head;
        if (head >= 0)
            previous[head] = slot;
        head = slot;
        if (tail < 0)
            tail = slot;
    }

    private void Unlink(int slot)
    {
        var p = previous[slot];
        var n = next[slot];
        if (p >= 0)
            next[p] = n;
        else
            head = n;
        if (n >= 0)
            previous[n] = p;
        else
            tail = p;
    }
}
