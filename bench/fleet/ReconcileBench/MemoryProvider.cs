using System.Collections.Concurrent;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Providers;

namespace ReconcileBench;

/// <summary>A provider in memory: one H100 spot offer with room for everything, instantly created and deleted.</summary>
internal sealed class MemoryProvider : ICloudProvider
{
    private int next;

    public Offer Offer { get; } = new("mem", "local", "h100", "r1", CapacityTypes.Spot, "H100", 1, 80, 16, 64, 1.00m, 2.50m, true);

    public ConcurrentDictionary<string, CloudInstance> Instances { get; } = new();

    public string Name => "mem";

    public string Type => "local";

    public bool CanReboot => false;

    public CloudInstance Add(string name)
    {
        var instance = new CloudInstance($"i-{Interlocked.Increment(ref next)}", name, InstanceState.Running, "running", null, null, "r1", "h100", CapacityTypes.Spot);
        Instances[instance.Id] = instance;
        return instance;
    }

    public Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<Offer>>([Offer]);

    public Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct) => Task.FromResult(Add(request.InstanceName));

    public Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct) =>
        Task.FromResult(Instances.TryGetValue(instanceId, out var i) ? i : null);

    public Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<CloudInstance>>([.. Instances.Values]);

    public Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        Instances.TryRemove(instanceId, out _);
        return Task.CompletedTask;
    }

    public Task RebootAsync(string instanceId, CancellationToken ct) => throw new NotSupportedException();
}
