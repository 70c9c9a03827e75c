using System.IO.Hashing;
using System.Text;
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
    public void Blocks_are_xxh3_of_their_utf16_bytes_seeded_with_the_previous_blocks_hash()
    {
        var first = "héllo wörld ✓ " + new string('x', Block - 14);
        var second = new string('y', Block);
        var firstHash = XxHash3.HashToUInt64(Encoding.Unicode.GetBytes(first), 0);

        Assert.Equal([firstHash, XxHash3.HashToUInt64(Encoding.Unicode.GetBytes(second), unchecked((long)firstHash))], PrefixHasher.Hash(first + second));
    }

    [Fact]
    public void Hashes_are_the_same_in_every_process_and_release()
    {
        // Pinned, so a change of algorithm is never an accident: the index lives in memory only, but gateways of
        // different versions side by side must still agree on which prompts share a prefix. Changing the algorithm on
        // purpose means changing these numbers in the same commit, and saying so in its notes.
        var prompt = string.Concat(Enumerable.Range(0, 2 * Block).Select(i => (char)('a' + (i % 26))));
        Assert.Equal([856959832403566267UL, 7628185385343518988UL], PrefixHasher.Hash(prompt));
        Assert.Equal([1161862788594923397UL, 11077146667754010501UL], PrefixHasher.HashUtf8(Encoding.UTF8.GetBytes(prompt)));
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
}
