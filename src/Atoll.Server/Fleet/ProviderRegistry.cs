using Atoll.Core.Resources;
using Atoll.Providers;
using Atoll.Providers.Http;
using Microsoft.Extensions.Logging;

namespace Atoll.Server.Fleet;

/// <summary>
/// Keeps one adapter per Provider resource, rebuilt when its generation changes. Credentials are resolved here, on
/// the server, from the references in the spec; a reference that does not resolve makes that provider unusable
/// (shown in its status) without stopping the others.
/// </summary>
internal sealed class ProviderRegistry(
    Func<ProviderContext, ICloudProvider> factory, TimeProvider time, ILoggerFactory logging, ProviderHttpOptions? httpOptions = null)
    : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly Dictionary<string, ProviderEntry> entries = new(StringComparer.Ordinal);
    private readonly ILogger logger = logging.CreateLogger<ProviderRegistry>();
    private readonly Lock gate = new();

    /// <summary>This cluster's id, part of every instance name; set once at start.</summary>
    public string ClusterId { get; set; } = "local";

    public IReadOnlyList<ProviderEntry> Entries
    {
        get
        {
            lock (gate)
            {
                return entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            }
        }
    }

    public ProviderEntry? Get(string name)
    {
        lock (gate)
        {
            return entries.GetValueOrDefault(name);
        }
    }

    /// <summary>Brings the adapters in line with the Provider resources.</summary>
    public async Task SyncAsync(IReadOnlyList<ResourceDocument> resources)
    {
        var stale = new List<ProviderEntry>();
        lock (gate)
        {
            var names = resources.Select(r => r.Metadata.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var gone in entries.Values.Where(e => !names.Contains(e.Name)).ToList())
            {
                entries.Remove(gone.Name);
                stale.Add(gone);
            }
            foreach (var resource in resources)
            {
                if (entries.TryGetValue(resource.Metadata.Name, out var current) && current.Generation == resource.Metadata.Generation)
                {
                    continue;
                }
                if (current is not null)
                {
                    stale.Add(current);
                }
                entries[resource.Metadata.Name] = Build(resource);
            }
        }
        foreach (var entry in stale)
        {
            await DisposeProviderAsync(entry).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ProviderEntry> all;
        lock (gate)
        {
            all = entries.Values.ToList();
            entries.Clear();
        }
        foreach (var entry in all)
        {
            await DisposeProviderAsync(entry).ConfigureAwait(false);
        }
    }

    private ProviderEntry Build(ResourceDocument resource)
    {
        var name = resource.Metadata.Name;
        ProviderSpec spec;
        try
        {
            spec = ResourceSpecs.Provider(resource);
        }
        catch (FormatException e)
        {
            return new ProviderEntry(name, "?", resource.Metadata.Generation, null, null, e.Message);
        }
        var (secrets, errors) = SecretResolver.ResolveAll(spec);
        if (errors.Count > 0)
        {
            var message = string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"));
            logger.LogWarning("Provider {Provider}: credentials do not resolve: {Message}", name, message);
            return new ProviderEntry(name, spec.Type, resource.Metadata.Generation, spec, null, "credentials do not resolve: " + message);
        }
        try
        {
            var context = new ProviderContext(name, spec, secrets, ClusterId, Http, time, logging, httpOptions);
            var provider = factory(context);
            logger.LogInformation("Provider {Provider} ({Type}) ready, generation {Generation}", name, spec.Type, resource.Metadata.Generation);
            return new ProviderEntry(name, spec.Type, resource.Metadata.Generation, spec, provider, null);
        }
        catch (Exception e) when (e is ProviderException or ArgumentException or NotSupportedException)
        {
            return new ProviderEntry(name, spec.Type, resource.Metadata.Generation, spec, null, e.Message);
        }
    }

    private static async Task DisposeProviderAsync(ProviderEntry entry)
    {
        switch (entry.Provider)
        {
            case IAsyncDisposable async:
                await async.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable sync:
                sync.Dispose();
                break;
        }
    }
}
