using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Atoll.Core.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atoll.Agent.Tests.BatchWorker;

/// <summary>
/// The control plane's lease API as documented (JSON with web naming, 204 for an empty long poll, problem+json
/// on errors) plus a signed-URL object store serving the input with Range support and taking result PUTs.
/// </summary>
internal sealed class FakeLeaseServer : IAsyncDisposable
{
    public const string Credential = "atoll_node_secret";
    private const string Signature = "X-Sig=c2lnbmF0dXJl";

    private readonly WebApplication app;
    private readonly ConcurrentQueue<LeaseGrant> grants = new();

    private FakeLeaseServer(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public Uri Address { get; }

    public byte[] Input { get; set; } = [];

    /// <summary>Answer ranged GETs with 200 and the whole object (as some stores do) instead of 206.</summary>
    public bool IgnoreRange { get; set; }

    public string HeartbeatStatus { get; set; } = LeaseState.Extended;

    /// <summary>Lease polls to answer with this status before behaving (e.g. 503, 401).</summary>
    public int FailPollsWith { get; set; }

    public int FailPollsFor { get; set; }

    /// <summary>Every call: method, path, Authorization header, body.</summary>
    public ConcurrentQueue<(string Method, string Path, string? Authorization, string Body)> Calls { get; } = new();

    public ConcurrentDictionary<string, (byte[] Body, string? ContentType)> Uploads { get; } = new();

    public int Polls => Calls.Count(c => c.Path == "/api/v1/agent/leases");

    public IEnumerable<string> BodiesOf(string action) => Calls.Where(c => c.Path.EndsWith("/" + action, StringComparison.Ordinal)).Select(c => c.Body);

    public static async Task<FakeLeaseServer> StartAsync()
    {
        FakeLeaseServer? server = null;
        var (app, address) = await KestrelApp.StartAsync(a =>
        {
            a.Use(async (context, next) =>
            {
                context.Request.EnableBuffering();
                var body = await new StreamReader(context.Request.Body, Encoding.UTF8).ReadToEndAsync();
                context.Request.Body.Position = 0;
                server!.Calls.Enqueue((context.Request.Method, context.Request.Path.Value!, context.Request.Headers.Authorization.FirstOrDefault(), body));
                await next(context);
            });
            a.MapPost("/api/v1/agent/leases", (Delegate)((HttpContext c) => server!.PollAsync(c)));
            a.MapPost("/api/v1/agent/leases/{batchId}/{seq:int}/heartbeat", (HttpContext c) => Authorized(c)
                ?? Results.Json(new LeaseState(server!.HeartbeatStatus, DateTimeOffset.UtcNow.AddSeconds(3))));
            a.MapPost("/api/v1/agent/leases/{batchId}/{seq:int}/complete", (HttpContext c) => Authorized(c) ?? Results.NoContent());
            a.MapPost("/api/v1/agent/leases/{batchId}/{seq:int}/fail", (HttpContext c) => Authorized(c) ?? Results.NoContent());
            a.MapGet("/objects/input", (HttpContext c) => server!.Download(c));
            a.MapPut("/objects/results/{name}", async (HttpContext c, string name) => await server!.UploadAsync(c, name));
        });
        server = new FakeLeaseServer(app, address);
        return server;
    }

    /// <summary>Offers a lease on lines [<paramref name="first"/>, first + count) of <see cref="Input"/>.</summary>
    public LeaseGrant Offer(string batchId, int seq, int first, int count, string model = "llama", int leaseSeconds = 3)
    {
        var (start, end) = Range(first, count);
        var grant = new LeaseGrant(batchId, seq, "lt_" + Guid.NewGuid().ToString("N"), 1, DateTimeOffset.UtcNow.AddSeconds(leaseSeconds), leaseSeconds,
            "/v1/chat/completions", model, new Uri(Address, "/objects/input?" + Signature), start, end, first, count,
            new Uri(Address, $"/objects/results/{batchId}-{seq}?{Signature}"));
        grants.Enqueue(grant);
        return grant;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private (long Start, long End) Range(int first, int count)
    {
        long offset = 0, start = -1;
        var line = 0;
        for (var i = 0; i <= Input.Length; i++)
        {
            if (line == first && start < 0)
            {
                start = offset;
            }
            if (line == first + count)
            {
                return (start, offset);
            }
            if (i < Input.Length && Input[i] == (byte)'\n')
            {
                line++;
                offset = i + 1;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(count), "the input has fewer lines");
    }

    private static IResult? Authorized(HttpContext c) =>
        c.Request.Headers.Authorization.FirstOrDefault() == "Bearer " + Credential
            ? null
            : Results.Problem(statusCode: 401, detail: "node credential is not valid");

    private async Task<IResult> PollAsync(HttpContext c)
    {
        if (Authorized(c) is { } refused)
        {
            return refused;
        }
        if (FailPollsFor > 0)
        {
            FailPollsFor--;
            return Results.Problem(statusCode: FailPollsWith, detail: "poll refused by the test");
        }
        using var doc = await JsonDocument.ParseAsync(c.Request.Body);
        var models = doc.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetString()).ToList();
        if (grants.TryPeek(out var grant) && models.Contains(grant.Model) && grants.TryDequeue(out grant))
        {
            return Results.Json(grant);
        }
        await Task.Delay(50, c.RequestAborted); // a short long poll
        return Results.NoContent();
    }

    private IResult Download(HttpContext c)
    {
        if (!c.Request.QueryString.Value!.Contains(Signature, StringComparison.Ordinal))
        {
            return Results.StatusCode(403);
        }
        if (IgnoreRange)
        {
            return Results.Bytes(Input, "application/x-ndjson");
        }
        return Results.Bytes(Input, "application/x-ndjson", enableRangeProcessing: true);
    }

    private async Task<IResult> UploadAsync(HttpContext c, string name)
    {
        if (!c.Request.QueryString.Value!.Contains(Signature, StringComparison.Ordinal))
        {
            return Results.StatusCode(403);
        }
        using var buffer = new MemoryStream();
        await c.Request.Body.CopyToAsync(buffer);
        Uploads[name] = (buffer.ToArray(), c.Request.ContentType);
        return Results.Ok();
    }
}
