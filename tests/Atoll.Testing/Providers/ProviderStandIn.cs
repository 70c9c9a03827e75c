using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atoll.Testing.Providers;

/// <summary>
/// Base of the in-test stand-ins for cloud provider APIs: a real Kestrel server on 127.0.0.1 that records every call
/// and can be scripted to answer the next calls of a route with a given status and body (429s, 5xx, capacity
/// errors) before the stand-in's own routes answer. Subclasses map the documented paths and JSON of one provider.
/// </summary>
public abstract class ProviderStandIn : IAsyncDisposable
{
    private readonly ConcurrentQueue<ScriptedFault> faults = new();
    private WebApplication? app;

    /// <summary>Base address of the API, e.g. <c>http://127.0.0.1:PORT/api/v1</c>, to put in a Provider's <c>baseUrl</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The bearer token the stand-in accepts; anything else gets the provider's 401 body.</summary>
    public string ApiKey { get; set; } = "test-api-key";

    /// <summary>Every call: method, path and query, Authorization header, body.</summary>
    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    /// <summary>Answer the next <paramref name="times"/> calls whose "METHOD /path" starts with <paramref name="route"/> with this status and body.</summary>
    public void Fail(string route, int status, string body, int times = 1, string? retryAfter = null)
    {
        for (var i = 0; i < times; i++)
        {
            faults.Enqueue(new ScriptedFault(route, status, body, retryAfter));
        }
    }

    /// <summary>The path prefix of the API under the host, e.g. <c>/api/v1</c>.</summary>
    protected abstract string PathBase { get; }

    /// <summary>Maps the provider's routes (relative to <see cref="PathBase"/>).</summary>
    protected abstract void Map(WebApplication app);

    /// <summary>The provider's body for a missing or wrong API key.</summary>
    protected abstract (int Status, string Body) Unauthorized();

    /// <summary>Paths that need no bearer token (Verda's OAuth token endpoint).</summary>
    protected virtual bool IsAnonymous(PathString path) => false;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        app = builder.Build();
        app.UsePathBase(PathBase);
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body, Encoding.UTF8).ReadToEndAsync();
            context.Request.Body.Position = 0;
            var pathAndQuery = context.Request.Path + context.Request.QueryString;
            Calls.Enqueue(new RecordedCall(context.Request.Method, pathAndQuery, context.Request.Headers.Authorization.ToString(), body));
            var route = context.Request.Method + " " + context.Request.Path;
            if (faults.TryPeek(out var fault) && route.StartsWith(fault.Route, StringComparison.Ordinal) && faults.TryDequeue(out fault))
            {
                await WriteAsync(context, fault.Status, fault.Body, fault.RetryAfter);
                return;
            }
            if (!IsAnonymous(context.Request.Path) && context.Request.Headers.Authorization.ToString() != "Bearer " + ApiKey)
            {
                var (status, text) = Unauthorized();
                await WriteAsync(context, status, text, null);
                return;
            }
            await next(context);
        });
        Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.TrimEnd('/') + PathBase);
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Calls whose "METHOD /path" starts with <paramref name="route"/>.</summary>
    public IReadOnlyList<RecordedCall> CallsTo(string route) =>
        Calls.Where(c => (c.Method + " " + c.PathAndQuery).StartsWith(route, StringComparison.Ordinal)).ToList();

    protected static async Task WriteAsync(HttpContext context, int status, string body, string? retryAfter)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }
        await context.Response.WriteAsync(body);
    }

    private sealed record ScriptedFault(string Route, int Status, string Body, string? RetryAfter);
}
