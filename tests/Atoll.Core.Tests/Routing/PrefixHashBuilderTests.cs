using System.IO.Hashing;
using System.Text;
using Atoll.Core.Routing;

namespace Atoll.Core.Tests.Routing;

public sealed class PrefixHashBuilderTests
{
    private const int Block = PrefixHasher.BlockChars;

    [Fact]
    public void Utf8_blocks_are_xxh3_of_their_bytes_seeded_with_the_previous_blocks_hash()
    {
        var text = Encoding.UTF8.GetBytes(new string('x', Block - 4) + "é✓" + new string('z', Block)); // 60 + 2 + 3 + 64 bytes
        var first = XxHash3.HashToUInt64(text.AsSpan(0, Block), 0);
        var second = XxHash3.HashToUInt64(text.AsSpan(Block, Block), unchecked((long)first));

        Assert.Equal([first, second], PrefixHasher.HashUtf8(text));
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

            // The cap reached inside a block gathered from pieces stops there too.
            var capped = new PrefixHashBuilder(maxBlocks: 3);
            for (var at = 0; at < text.Length; at += cut)
                capped.Append(text.AsSpan(at, Math.Min(cut, text.Length - at)));
            Assert.Equal(whole[..3], capped.ToArray());
            Assert.Equal(text.Length, capped.Length);

            var none = new PrefixHashBuilder(maxBlocks: 0);
            for (var at = 0; at < text.Length; at += cut)
                none.Append(text.AsSpan(at, Math.Min(cut, text.Length - at)));
            Assert.Empty(none.ToArray());
            Assert.Equal(text.Length, none.Length);
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
