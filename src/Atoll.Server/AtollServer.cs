using Atoll.Server.Api;
using Atoll.Server.Auth;
using Atoll.Server.Batch;
using Atoll.Server.Fleet;
using Atoll.Server.Gateway;
using Atoll.Server.Observability;
using Atoll.Server.Reconcilers;
using Atoll.Storage.Objects;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server;

/// <summary>Composes <c>atoll server</c>: store, auth, control API, probes, metrics and reconcilers.</summary>
public static class AtollServer
{
    /// <summary>
    /// Opens and migrates the store, makes sure an admin token exists and returns the app, ready to start.
    /// Throws <see cref="ArgumentException"/> for bad options and <see cref="StoreUnavailableException"/> when the
    /// store cannot be reached, both with messages fit for the terminal.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(
        ServerOptions options, Action<WebApplicationBuilder>? configure = null, TimeProvider? time = null, CancellationToken ct = default)
    {
        options.Validate();
        time ??= TimeProvider.System;
        // On small machines the pool starts with one worker per core and adds threads slowly; a burst of gateway
        // requests while SQLite (whose async calls block) is busy would then wait on thread injection.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        CreatePrivateDirectory(options.DataDir);
        var dataLock = DataDirLock.Acquire(options.DataDir);
        IStateStore? store = null;
        IObjectStore? objects = null;
        try
        {
            store = StateStoreFactory.Open(options.Store, options.DataDir);
            objects = ObjectStoreFactory.Open(options.Objects, options.DataDir, new Uri(options.PublicUrl ?? options.Listen), time);
            await store.MigrateAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            if (store is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }
            if (objects is not null)
            {
                await objects.DisposeAsync().ConfigureAwait(false);
            }
            dataLock.Dispose();
            throw;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = options.DataDir });
        builder.WebHost.UseUrls(options.Listen);
        // Each route enforces its own body limit (control API 1 MiB, gateway 8 MiB, file uploads 200 MB), streaming.
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            if (options.Gateway.Http1Front)
            {
                // Plain HTTP/1.1 forwarded requests are answered before Kestrel parses them; the rest goes on to it.
                k.ConfigureEndpointDefaults(listen => listen.Use(next =>
                {
                    var front = listen.ApplicationServices.GetRequiredService<Http1Front>();
                    return connection => front.ServeAsync(connection, next);
                }));
            }
        });
        // Kestrel runs a request on the thread that read it instead of queueing it once more. Sockets complete on
        // the thread pool unless the gateway switched one to inline I/O (Gateway/InlineIo.cs, its own requests only).
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = options.Gateway.InlineIo);
        if (options.Gateway.EpollClients && EpollLoop.Available)
        {
            // TCP endpoints on the gateway's own loops (Gateway/EpollTransport.cs); registered after the socket
            // transport, so Kestrel asks it first and keeps the socket transport for anything else.
            builder.Services.AddSingleton<IConnectionListenerFactory, EpollTransportFactory>();
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter(typeof(BearerAuthenticationHandler).FullName, LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        var services = builder.Services;
        services.AddSingleton(store);
        services.AddSingleton(time);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<ServerMetrics>();
        services.AddProblemDetails();
        services.AddAuthentication(AuthPolicies.Scheme)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(AuthPolicies.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Admin, p => p.RequireRole(AuthPolicies.Admin))
            .AddPolicy(AuthPolicies.Node, p => p.RequireRole(AuthPolicies.Node));
        services.AddSingleton<NodeLivenessReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeLivenessReconciler>());
        services.AddGateway(options.Gateway);
        // Registered through a factory so that the container disposes it at shutdown.
        services.AddSingleton<IObjectStore>(_ => objects);
        services.AddSingleton(_ => dataLock);
        services.AddBatch();
        services.AddFleet();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Resolved now, so that the container owns the lock (and releases it when the app is disposed) from here on.
        app.Services.GetRequiredService<DataDirLock>();
        // The gateway's forwarded /v1 operations first: they need none of routing, status pages, HTTP metrics or auth.
        app.UseOpenAiGateway();
        app.UseRouting();
        app.UseStatusCodePages();
        app.UseMiddleware<HttpMetricsMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthEndpoints(app.Services.GetRequiredService<ServerMetrics>());
        app.MapAgentEndpoints();
        app.MapNodeEndpoints();
        app.MapJoinTokenEndpoints();
        app.MapApiKeyEndpoints();
        app.MapFilesEndpoints();
        app.MapBatchesEndpoints();
        app.MapLeaseEndpoints();
        app.MapObjectEndpoints();
        app.MapOpenAiEndpoints();
        app.MapResourceEndpoints();
        app.MapFleetEndpoints();
        app.MapEndpointStatusEndpoints();
        // Fill the endpoint list before the first request instead of answering 404 for a second after start.
        await app.Services.GetRequiredService<EndpointRefresher>().RefreshOnceAsync(ct).ConfigureAwait(false);

        // Created now so that /metrics shows the gateway series before the first request.
        app.Services.GetRequiredService<GatewayMetrics>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Atoll.Server");
        await AdminTokenBootstrap.EnsureAsync(store, options.AdminTokenPath, time, logger, ct).ConfigureAwait(false);
        logger.LogInformation("State store: {Store} (schema v{Version}); listening on {Listen}",
            store.Description, await store.SchemaVersionAsync(ct).ConfigureAwait(false), options.Listen);
        if (options.Gateway.InlineIo && !InlineIo.Probe())
        {
            logger.LogWarning("This .NET runtime has no per-socket inline completions: the gateway runs on the thread pool (more CPU per request)");
        }
        return app;
    }

    /// <summary>The data dir holds the store and admin.token: readable by its owner only when we create it.</summary>
    private static void CreatePrivateDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
