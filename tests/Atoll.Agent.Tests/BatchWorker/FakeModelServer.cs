using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atoll.Agent.Tests.BatchWorker;

/// <summary>
/// A local model server as vLLM presents itself: <c>POST /v1/chat/completions</c> answering OpenAI-shaped JSON
/// (echoing the request's last message) and Prometheus text at <c>/metrics</c>. Tests choose per request what it
/// answers (<see cref="Behaviour"/>) and what the metrics say.
/// </summary>
internal sealed class FakeModelServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private int started;
    private int aborted;

    private FakeModelServer(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>What to answer for a request (by custom marker in the content): a status, or null to hang until aborted.</summary>
    public Func<string, int?> Behaviour { get; set; } = _ => 200;

    /// <summary>Prometheus text of /metrics; null answers 404 (a server without metrics).</summary>
    public string? MetricsText { get; set; }

    public ConcurrentQueue<(string Content, string? Authorization)> Requests { get; } = new();

    public int Started => Volatile.Read(ref started);

    public int Aborted => Volatile.Read(ref aborted);

    public int CallsFor(string content) => Requests.Count(r => r.Content == content);

    public static string Answer(string content) => $$$"""{"id":"chatcmpl-{{{content}}}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"echo {{{content}}}"}}]}""";

    public static async Task<FakeModelServer> StartAsync()
    {
        FakeModelServer? server = null;
        var (app, address) = await KestrelApp.StartAsync(a =>
        {
            a.MapPost("/v1/chat/completions", (Delegate)(async (HttpContext context) => await server!.ChatAsync(context)));
            a.MapGet("/metrics", () => server!.MetricsText is { } text ? Results.Text(text, "text/plain; version=0.0.4") : Results.NotFound());
        });
        server = new FakeModelServer(app, address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task ChatAsync(HttpContext context)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body);
        var content = doc.RootElement.GetProperty("messages")[0].GetProperty("content").GetString()!;
        Requests.Enqueue((content, context.Request.Headers.Authorization.FirstOrDefault()));
        Interlocked.Increment(ref started);
        var status = Behaviour(content);
        if (status is null)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref aborted);
            }
            return;
        }
        context.Response.StatusCode = status.Value;
        context.Response.Headers["x-request-id"] = "req-" + content;
        context.Response.ContentType = "application/json";
        var body = status.Value is >= 200 and < 300
            ? Answer(content)
            : $$$"""{"error":{"message":"bad request for {{{content}}}","type":"BadRequestError","param":null,"code":400}}""";
        await context.Response.WriteAsync(body);
    }
}
