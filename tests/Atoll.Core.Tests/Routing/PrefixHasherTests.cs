using Atoll.Core.Routing;

namespace Atoll.Core.Tests.Routing;

public sealed class PrefixHasherTests
{
    private const int Block = PrefixHasher.BlockChars;

    [Fact]
    public void Hashes_only_full_blocks()
    {
        Assert.Empty(PrefixHasher.Hash(new string('a', Block - 1)));
        Assert.Single(PrefixHasher.Hash(new string('a', Block)));
        Assert.Equal(3, PrefixHasher.Hash(new string('a', (3 * Block) + 10)).Length);
        Assert.Equal(2, PrefixHasher.Hash(new string('a', 10 * Block), maxBlocks: 2).Length);
    }

    [Fact]
    public void First_block_is_fnv1a_64_of_a_zero_seed_and_the_utf16_block()
    {
        Assert.Equal(0xaf63dc4c8601ec8cUL, Fnv1a("a"u8.ToArray()));
        var block = "héllo wörld ✓ " + new string('x', Block - 14);
        var bytes = new byte[8].Concat(System.Text.Encoding.Unicode.GetBytes(block)).ToArray();

        Assert.Equal(Fnv1a(bytes), PrefixHasher.Hash(block)[0]);
    }

    [Fact]
    public void Same_prompt_gives_same_hashes_and_a_changed_block_changes_it_and_all_after()
    {
        var prompt = string.Concat(Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), Block)));
        var changed = prompt[..Block] + "Z" + prompt[(Block + 1)..];

        var first = PrefixHasher.Hash(prompt);
        Assert.Equal(first, PrefixHasher.Hash(new string(prompt.ToCharArray())));
        var other = PrefixHasher.Hash(changed);
        Assert.Equal(first[0], other[0]);
        Assert.All(Enumerable.Range(1, 3), i => Assert.NotEqual(first[i], other[i]));
    }

    [Fact]
    public void Same_block_text_at_another_position_hashes_differently()
    {
        var block = new string('k', Block);
        var hashes = PrefixHasher.Hash(block + block + block);
        Assert.Equal(3, hashes.Distinct().Count());
        Assert.Equal(hashes[0], PrefixHasher.Hash(block)[0]);
    }

    private static ulong Fnv1a(byte[] bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
            hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }
}
