using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Atoll.Sim;

/// <summary>Composes <c>atoll sim</c>: an OpenAI-compatible model server that stands in for vLLM where there is no GPU.</summary>
public static class SimServer
{
    /// <summary>Header naming the instance that answered, on every response.</summary>
    public const string InstanceHeader = "x-atoll-instance";

    /// <summary>
    /// Returns the app, ready to start. Throws <see cref="ArgumentException"/> for bad options, with a message
    /// naming the command-line option. <paramref name="time"/> paces tokens, queues and the start-up delay.
    /// </summary>
    public static WebApplication Build(SimOptions options, Action<WebApplicationBuilder>? configure = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        time ??= TimeProvider.System;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(options.ListenUrl);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // The body limit is ours (--max-body-bytes), answered as 413 in OpenAI's error shape.
            k.Limits.MaxRequestBodySize = null;
            k.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Services.AddSingleton(sp => new SimRuntime(
            options, time, sp.GetRequiredService<IServer>(), sp.GetRequiredService<IHostApplicationLifetime>()));
        configure?.Invoke(builder);

        var app = builder.Build();
        var sim = app.Services.GetRequiredService<SimRuntime>();
        var completions = new CompletionEndpoints(sim);
        var embeddings = new EmbeddingEndpoints(sim);
        var info = new InfoEndpoints(sim);

        app.Use((ctx, next) =>
        {
            ctx.Response.Headers[InstanceHeader] = sim.Instance;
            return next(ctx);
        });
        app.MapPost("/v1/chat/completions", completions.ChatAsync);
        app.MapPost("/v1/completions", completions.TextAsync);
        app.MapPost("/v1/embeddings", embeddings.EmbedAsync);
        app.MapGet("/v1/models", info.ModelsAsync);
        app.MapGet("/health", info.HealthAsync);
        app.MapGet("/metrics", info.MetricsAsync);

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Atoll.Sim");
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            sim.MarkStarted();
            logger.LogInformation("Simulating model {Model} on {Urls} as instance {Instance} (ttft {Ttft} ms, itl {Itl} ms, {MaxNumSeqs} concurrent sequences)",
                options.Model, string.Join(", ", app.Urls), sim.Instance,
                options.TimeToFirstToken.TotalMilliseconds, options.InterTokenLatency.TotalMilliseconds, options.MaxNumSeqs);
        });
        return app;
    }
}
