using Atoll.Core.Security;

namespace Atoll.Core.Tests.Security;

public sealed class TokensTests
{
    [Fact]
    public void Tokens_are_random_prefixed_and_hashed_with_sha256()
    {
        var a = Tokens.New(Tokens.JoinPrefix);
        var b = Tokens.New(Tokens.JoinPrefix);
        Assert.NotEqual(a, b);
        Assert.StartsWith("atoll_join_", a);
        Assert.True(a.Length >= "atoll_join_".Length + 43, "256 bits of base64url");
        Assert.Equal(64, Tokens.Hash(a).Length);
        Assert.Equal(Tokens.Hash(a), Tokens.Hash(a));
        Assert.NotEqual(Tokens.Hash(a), Tokens.Hash(b));
        // Known vector: SHA-256("abc").
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Tokens.Hash("abc"));
    }
}
