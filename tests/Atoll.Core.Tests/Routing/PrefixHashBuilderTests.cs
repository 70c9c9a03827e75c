using System.Text;
using Atoll.Core.Routing;

namespace Atoll.Core.Tests.Routing;

public sealed class PrefixHashBuilderTests
{
    private const int Block = PrefixHasher.BlockChars;

    [Fact]
    public void First_utf8_block_is_fnv1a_64_of_a_zero_seed_and_the_block_bytes()
    {
        var block = Encoding.UTF8.GetBytes(new string('x', Block - 4) + "é✓"[..2]); // 60 + 2 + 3 bytes: one full block
        var expected = 14695981039346656037UL;
        foreach (var b in new byte[8].Concat(block.Take(Block)))
            expected = (expected ^ b) * 1099511628211UL;

        var hashes = PrefixHasher.HashUtf8(block);
        Assert.Equal([expected], hashes);
    }

    [Fact]
    public void Appending_in_pieces_gives_the_hashes_of_the_whole()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 500).Select(i => (char)('a' + (i % 26)))));
        var whole = PrefixHasher.HashUtf8(text);
        Assert.Equal(text.Length / Block, whole.Length);
        foreach (var cut in new[] { 1, 7, 63, 64, 65, 200 })
        {
            var builder = new PrefixHashBuilder();
            for (var at = 0; at < text.Length; at += cut)
                builder.Append(text.AsSpan(at, Math.Min(cut, text.Length - at)));
            Assert.Equal(whole, builder.ToArray());
            Assert.Equal(text.Length, builder.Length);
        }
    }

    [Fact]
    public void Hashes_chain_so_a_changed_block_changes_it_and_all_after()
    {
        var text = Encoding.UTF8.GetBytes(new string('q', 4 * Block));
        var changed = (byte[])text.Clone();
        changed[Block + 3] = (byte)'Z';
        var first = PrefixHasher.HashUtf8(text);
        var other = PrefixHasher.HashUtf8(changed);
        Assert.Equal(first[0], other[0]);
        Assert.All(Enumerable.Range(1, 3), i => Assert.NotEqual(first[i], other[i]));
        Assert.Equal(4, first.Distinct().Count());
    }

    [Fact]
    public void Stops_hashing_at_the_block_cap_but_counts_every_byte()
    {
        var builder = new PrefixHashBuilder(maxBlocks: 2);
        builder.Append(new byte[10 * Block]);
        Assert.Equal(2, builder.ToArray().Length);
        Assert.Equal(10 * Block, builder.Length);
        Assert.Empty(PrefixHasher.HashUtf8(new byte[Block - 1]));
        Assert.Empty(new PrefixHashBuilder().ToArray());
    }
}
