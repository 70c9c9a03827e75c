using Atoll.Server.Gateway;

namespace Atoll.Server.Tests.Gateway;

public sealed class RequestBodiesTests
{
    [Fact]
    public void A_large_declared_body_gets_memory_as_its_bytes_arrive_and_ends_in_an_array_of_its_exact_size()
    {
        const int declared = 200_000;
        var sent = Enumerable.Range(0, declared).Select(i => (byte)(i * 7)).ToArray();

        var body = RequestBodies.Start(declared);
        Assert.Equal(RequestBodies.InitialBytes, body.Length);
        var got = 0;
        foreach (var piece in sent.Chunk(1000))
        {
            body = RequestBodies.Grow(body, got, got + piece.Length, declared);
            Assert.True(body.Length <= Math.Max(RequestBodies.InitialBytes, 2 * (got + piece.Length)), $"{body.Length} bytes held for {got + piece.Length} received");
            piece.CopyTo(body.AsSpan(got));
            got += piece.Length;
        }

        Assert.Equal(sent, body);
    }

    [Fact]
    public void A_small_body_gets_one_array_of_its_size()
    {
        var body = RequestBodies.Start(300);
        Assert.Equal(300, body.Length);
        Assert.Same(body, RequestBodies.Grow(body, 0, 300, 300));
    }
}
