using System.Buffers;
using System.Text;
using Atoll.Server.Gateway;

namespace Atoll.Server.Tests.Gateway;

public sealed class Http1RequestHeadTests
{
    private const int MaxHead = 32 * 1024; // Kestrel's MaxRequestHeadersTotalSize
    private const int MaxHeaders = 100;
    private const string Chat = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw:7070\r\nAuthorization: Bearer k-1\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n";

    private static HeadVerdict Parse(string text, out Http1RequestHead head, string last = "", int maxHead = MaxHead, int maxHeaders = MaxHeaders) =>
        Http1RequestHead.Parse(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), maxHead, maxHeaders, last, out head);

    [Fact]
    public void Plain_chat_request_is_parsed_with_its_head_length_body_length_key_and_keep_alive()
    {
        Assert.Equal(HeadVerdict.Mine, Parse(Chat + "{\"model\":\"m\"...}", out var head));
        Assert.Equal(GatewayRoute.ChatCompletions, head.Route);
        Assert.Equal(OpenAiEndpoints.ChatCompletionsPath, head.Path);
        Assert.Equal(Chat.Length, head.HeadLength);
        Assert.Equal(17, head.ContentLength);
        Assert.Equal("Bearer k-1", head.Authorization);
        Assert.True(head.KeepAlive);
    }

    [Theory]
    [InlineData("/v1/completions", "Completions", OpenAiEndpoints.CompletionsPath)]
    [InlineData("/v1/embeddings", "Embeddings", OpenAiEndpoints.EmbeddingsPath)]
    public void Each_forwarded_path_has_its_route(string path, string route, string upstream)
    {
        Assert.Equal(HeadVerdict.Mine, Parse(Chat.Replace("/v1/chat/completions", path, StringComparison.Ordinal), out var head));
        Assert.Equal(route, head.Route.ToString());
        Assert.Equal(upstream, head.Path);
    }

    [Theory]
    [InlineData("Connection: close")]
    [InlineData("connection: keep-alive, CLOSE")]
    public void Connection_close_ends_keep_alive(string header)
    {
        Assert.Equal(HeadVerdict.Mine, Parse(Chat.Replace("Content-Type", header + "\r\nContent-Type", StringComparison.Ordinal), out var head));
        Assert.False(head.KeepAlive);
    }

    [Fact]
    public void Missing_authorization_is_empty_and_a_repeated_one_is_the_same_string()
    {
        Assert.Equal(HeadVerdict.Mine, Parse(Chat.Replace("Authorization: Bearer k-1\r\n", "", StringComparison.Ordinal), out var head));
        Assert.Equal("", head.Authorization);

        var last = new StringBuilder("Bearer ").Append("k-1").ToString();
        Assert.Equal(HeadVerdict.Mine, Parse(Chat, out head, last));
        Assert.Same(last, head.Authorization);
    }

    [Theory]
    [InlineData("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("POST /V1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("POST http://gw/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5a\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nBad-Name : 1\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n: no name\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nno colon\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: caf\u00e9\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization:\r\nAuthorization: Bearer b\r\nContent-Length: 5\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003")]
    [InlineData("GET ")]
    [InlineData("POSX")]
    [InlineData("POST /v1/models")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\rX")]
    public void Anything_but_a_plain_forwarded_request_is_left_to_Kestrel(string text)
    {
        Assert.Equal(HeadVerdict.NotMine, Parse(text, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("POST /v1/chat")]
    [InlineData("POST /v1/embeddings HTTP/1.1")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\n")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Len")]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n")]
    public void A_head_not_complete_yet_needs_more(string text)
    {
        Assert.Equal(HeadVerdict.NeedMore, Parse(text, out _));
    }

    [Fact]
    public void A_head_over_Kestrels_limits_is_left_to_Kestrel_which_refuses_it()
    {
        var big = Chat.Replace("Content-Type", "X-Big: " + new string('b', 2000) + "\r\nContent-Type", StringComparison.Ordinal);
        Assert.Equal(HeadVerdict.Mine, Parse(big, out _, maxHead: 4096));
        Assert.Equal(HeadVerdict.NotMine, Parse(big, out _, maxHead: 1024));
        // Without its end yet: still over the limit, so not worth waiting for.
        Assert.Equal(HeadVerdict.NotMine, Parse(big[..1500], out _, maxHead: 1024));
        Assert.Equal(HeadVerdict.NeedMore, Parse(big[..1500], out _, maxHead: 4096));

        // Kestrel's MaxRequestHeadersTotalSize counts the header lines and the blank line after them (+2), not the
        // request line: so does the front, for every path, not a limit looser by a request line's allowance.
        foreach (var path in new[] { "/v1/chat/completions", "/v1/embeddings" })
        {
            var text = Chat.Replace("/v1/chat/completions", path, StringComparison.Ordinal);
            var headerBytes = text.Length - text.IndexOf("\r\n", StringComparison.Ordinal) - 2;
            Assert.Equal(HeadVerdict.Mine, Parse(text, out _, maxHead: headerBytes - 2));
            Assert.Equal(HeadVerdict.NotMine, Parse(text, out _, maxHead: headerBytes - 3));
        }

        var many = Chat.Replace("Content-Type", string.Concat(Enumerable.Range(0, 5).Select(i => $"X-{i}: 1\r\n")) + "Content-Type", StringComparison.Ordinal);
        Assert.Equal(HeadVerdict.Mine, Parse(many, out _, maxHeaders: 9));
        Assert.Equal(HeadVerdict.NotMine, Parse(many, out _, maxHeaders: 8));
    }

    [Fact]
    public void A_head_split_anywhere_across_buffer_segments_parses_as_it_does_whole()
    {
        var bytes = Encoding.ASCII.GetBytes(Chat + "{\"model\":\"m\"...}");
        for (var cut1 = 1; cut1 < bytes.Length; cut1 += 3)
        {
            for (var cut2 = cut1 + 1; cut2 < bytes.Length; cut2 += 7)
            {
                var sequence = Segments(bytes[..cut1], bytes[cut1..cut2], bytes[cut2..]);
                Assert.Equal(HeadVerdict.Mine, Http1RequestHead.Parse(sequence, MaxHead, MaxHeaders, "", out var head));
                Assert.Equal((Chat.Length, 17L, "Bearer k-1"), (head.HeadLength, head.ContentLength, head.Authorization));
            }
            // And a head cut short at any point waits for the rest.
            if (cut1 < Chat.Length)
            {
                Assert.Equal(HeadVerdict.NeedMore, Http1RequestHead.Parse(Segments(bytes[..(cut1 / 2)], bytes[(cut1 / 2)..cut1]), MaxHead, MaxHeaders, "", out _));
            }
        }
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(part);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long index)
        {
            Memory = bytes;
            RunningIndex = index;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
