using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary>Writes JSON bodies and server-sent events with <see cref="Utf8JsonWriter"/>: no reflection, no DTO types for the wire.</summary>
internal static class JsonResponse
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    // Output goes to API clients, never into HTML, so quotes and backticks in messages stay readable.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ReadOnlyMemory<byte> Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }
        return buffer.WrittenMemory;
    }

    public static async Task WriteAsync(HttpContext ctx, int status, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = body.Length;
        await ctx.Response.Body.WriteAsync(body, ct).ConfigureAwait(false);
    }

    public static Task WriteAsync(HttpContext ctx, int status, Action<Utf8JsonWriter> write, CancellationToken ct) =>
        WriteAsync(ctx, status, Serialize(write), ct);

    public static Task WriteErrorAsync(HttpContext ctx, OpenAiException error, CancellationToken ct)
    {
        if (error.Status == StatusCodes.Status429TooManyRequests)
        {
            ctx.Response.Headers.RetryAfter = "1";
        }
        return WriteAsync(ctx, error.Status, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", error.Message);
            w.WriteString("type", error.Type);
            WriteNullable(w, "param", error.Param);
            WriteNullable(w, "code", error.Code);
            w.WriteEndObject();
            w.WriteEndObject();
        }, ct);
    }

    /// <summary>Sends the headers of an event stream with buffering off, so each event leaves when it is flushed.</summary>
    public static void StartEventStream(HttpContext ctx)
    {
        ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        ctx.Response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>One <c>data: {json}</c> event, flushed at once.</summary>
    public static async Task WriteEventAsync(HttpContext ctx, Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        buffer.Write(DataPrefix);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }
        buffer.Write(EventEnd);
        await ctx.Response.Body.WriteAsync(buffer.WrittenMemory, ct).ConfigureAwait(false);
        await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    public static async Task WriteDoneAsync(HttpContext ctx, CancellationToken ct)
    {
        await ctx.Response.Body.WriteAsync(Done, ct).ConfigureAwait(false);
        await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    public static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
