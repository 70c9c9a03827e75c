using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;

namespace Atoll.Server.Gateway;

/// <summary>The answering side of <see cref="Http1Front"/>: writes HTTP/1.1 responses into the connection's output pipe.</summary>
internal sealed class Http1FrontClient : GatewayClient, IDisposable
{
    private static readonly ConcurrentDictionary<int, byte[]> StatusLines = new();
    private static readonly byte[][] KeptHeaderPrefixes = [.. Http1AnswerHead.KeptHeaders.Select(h => Encoding.ASCII.GetBytes(h + ": "))];
    private static DateLine date = new(0, []);

    private readonly ConnectionContext connection;
    private readonly Http1Deadlines deadlines;
    private readonly PipeWriter output;
    private readonly CancellationTokenSource gone = new();
    private readonly CancellationTokenRegistration closed;
    private string authorization = "";
    private bool keepAlive;
    private bool started;

    public Http1FrontClient(ConnectionContext connection, Http1Deadlines deadlines)
    {
        this.connection = connection;
        this.deadlines = deadlines;
        output = connection.Transport.Output;
        closed = connection.ConnectionClosed.UnsafeRegister(static s => ((Http1FrontClient)s!).Gone(), this);
    }

    public override string Authorization => authorization;

    public override CancellationToken Aborted => gone.Token;

    public bool KeepAlive => keepAlive;

    public void Begin(string authorization, bool keepAlive)
    {
        this.authorization = authorization;
        this.keepAlive = keepAlive;
        started = false;
    }

    protected override ValueTask WriteErrorJsonAsync(int status, string json, int? retryAfterSeconds)
    {
        WriteHead(status, "application/json", null, null, Encoding.UTF8.GetByteCount(json), retryAfterSeconds);
        Put(json, Encoding.UTF8);
        return FlushAsync();
    }

    public override ValueTask WriteAnswerAsync(Http1Connection answer, string endpoint, ReadOnlyMemory<byte> body)
    {
        WriteHead(answer.Status, answer.ContentType, answer, endpoint, body.Length);
        output.Write(body.Span);
        return FlushAsync();
    }

    public override ValueTask StartStreamAsync(Http1Connection answer, string endpoint)
    {
        WriteHead(answer.Status, answer.ContentType, answer, endpoint, null);
        return FlushAsync();
    }

    public override ValueTask WriteStreamAsync(ReadOnlyMemory<byte> piece)
    {
        if (piece.IsEmpty)
        {
            return ValueTask.CompletedTask; // an empty chunk would end the stream
        }
        var size = output.GetSpan(16);
        Utf8Formatter.TryFormat(piece.Length, size, out var n, new StandardFormat('x'));
        "\r\n"u8.CopyTo(size[n..]);
        output.Advance(n + 2);
        output.Write(piece.Span);
        output.Write("\r\n"u8);
        return FlushAsync();
    }

    public override ValueTask EndStreamAsync()
    {
        output.Write("0\r\n\r\n"u8);
        return FlushAsync();
    }

    public override void Abort()
    {
        keepAlive = false;
        connection.Abort(new ConnectionAbortedException("The gateway cut the connection after a failed stream."));
        Gone();
    }

    /// <summary>After an unexpected error: a 500 in OpenAI's shape if nothing was sent yet, else the connection is cut.</summary>
    public async Task FailAsync()
    {
        keepAlive = false;
        if (started)
        {
            Abort();
            return;
        }
        try
        {
            await WriteErrorAsync(500, "The gateway failed on this request; see the server log.", "server_error").ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        closed.Dispose();
        gone.Dispose();
    }

    private void Gone()
    {
        try
        {
            gone.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Status line and headers; a null <paramref name="length"/> means a chunked stream.</summary>
    private void WriteHead(int status, string? contentType, Http1Connection? answer, string? endpoint, long? length, int? retryAfterSeconds = null)
    {
        started = true;
        output.Write(StatusLines.GetOrAdd(status, static s => Encoding.ASCII.GetBytes($"HTTP/1.1 {s} {ReasonPhrases.GetReasonPhrase(s)}\r\n")));
        output.Write(DateLine.Now());
        if (contentType is not null)
        {
            output.Write("Content-Type: "u8);
            Put(Safe(contentType), Encoding.Latin1);
            output.Write("\r\n"u8);
        }
        if (answer is not null)
        {
            var kept = answer.Kept;
            for (var i = 0; i < kept.Length; i++)
            {
                if (kept[i] is { } value)
                {
                    output.Write(KeptHeaderPrefixes[i]);
                    Put(Safe(value), Encoding.Latin1);
                    output.Write("\r\n"u8);
                }
            }
        }
        if (endpoint is not null)
        {
            output.Write("x-atoll-endpoint: "u8);
            Put(Safe(endpoint), Encoding.Latin1);
            output.Write("\r\n"u8);
        }
        if (retryAfterSeconds is { } seconds)
        {
            output.Write("Retry-After: "u8);
            PutNumber(seconds);
            output.Write("\r\n"u8);
        }
        if (length is { } n)
        {
            output.Write("Content-Length: "u8);
            PutNumber(n);
            output.Write("\r\n"u8);
        }
        else
        {
            output.Write("Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"u8);
        }
        keepAlive &= !deadlines.CloseRequested;
        if (!keepAlive)
        {
            output.Write("Connection: close\r\n"u8);
        }
        output.Write("\r\n"u8);
    }

    private void Put(string text, Encoding encoding)
    {
        var span = output.GetSpan(encoding.GetMaxByteCount(text.Length));
        output.Advance(encoding.GetBytes(text, span));
    }

    private void PutNumber(long number)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(number, span, out var n);
        output.Advance(n);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        FlushResult result;
        try
        {
            var flushing = output.FlushAsync(gone.Token);
            if (!flushing.IsCompleted)
            {
                deadlines.WriteWaiting(); // the client is not taking the bytes as fast as they come
            }
            result = await flushing.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            result = new FlushResult(isCanceled: false, isCompleted: true);
        }
        finally
        {
            deadlines.WriteDone();
        }
        if (result.IsCompleted || result.IsCanceled)
        {
            Gone();
            throw new OperationCanceledException("The client is gone.", gone.Token);
        }
    }

    /// <summary>Header value characters a response may carry; anything else (CR, LF, other controls) is replaced.</summary>
    private static string Safe(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' and not '\t' or '\x7f')
            {
                return string.Create(value.Length, value, static (span, v) =>
                {
                    for (var i = 0; i < v.Length; i++)
                    {
                        span[i] = v[i] is < ' ' and not '\t' or '\x7f' ? '?' : v[i];
                    }
                });
            }
        }
        return value;
    }

    /// <summary>The Date header line, made once a second.</summary>
    private sealed record DateLine(long Second, byte[] Line)
    {
        public static byte[] Now()
        {
            var now = DateTimeOffset.UtcNow;
            var second = now.ToUnixTimeSeconds();
            var current = date;
            if (current.Second != second)
            {
                current = new DateLine(second, Encoding.ASCII.GetBytes($"Date: {now:r}\r\n"));
                date = current;
            }
            return current.Line;
        }
    }
}
