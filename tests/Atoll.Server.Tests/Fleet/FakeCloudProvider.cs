using System.Collections.Concurrent;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Providers;

namespace Atoll.Server.Tests.Fleet;

/// <summary>A scriptable provider in memory: offers, creates that fail on cue, instances that can vanish.</summary>
internal sealed class FakeCloudProvider(string name) : ICloudProvider
{
    private int next;

    public string Name => name;

    public string Type => "local";

    public bool CanReboot => false;

    public List<Offer> Offers { get; } = [];

    /// <summary>Offer keys whose create throws this reason (every time).</summary>
    public ConcurrentDictionary<string, ProviderErrorReason> Failing { get; } = new();

    public ProviderErrorReason? OffersFail { get; set; }

    public ConcurrentDictionary<string, CloudInstance> Instances { get; } = new();

    public ConcurrentQueue<LaunchRequest> Launches { get; } = new();

    public ConcurrentQueue<string> Deleted { get; } = new();

    public Offer AddOffer(string type, decimal price, string capacity = CapacityTypes.OnDemand, string region = "r1", string gpu = "H100", int count = 1)
    {
        var offer = new Offer(name, "local", type, region, capacity, gpu, count, 80, 16, 64, price, price / 0.7m, true);
        Offers.Add(offer);
        return offer;
    }

    public Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct) =>
        OffersFail is { } reason
            ? throw new ProviderException(reason, $"{name}: offers refused ({reason})")
            : Task.FromResult<IReadOnlyList<Offer>>(Offers.ToList());

    public Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        Launches.Enqueue(request);
        if (Failing.TryGetValue(request.Offer.Key, out var reason))
        {
            throw new ProviderException(reason, $"{name}: scripted {reason} for {request.Offer.InstanceType}");
        }
        var instance = new CloudInstance($"i-{Interlocked.Increment(ref next)}", request.InstanceName, InstanceState.Running, "running",
            "10.0.0.1", null, request.Offer.Region, request.Offer.InstanceType, request.Offer.CapacityType);
        Instances[instance.Id] = instance;
        return Task.FromResult(instance);
    }

    public Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct) =>
        Task.FromResult(Instances.TryGetValue(instanceId, out var i) ? i : null);

    public Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<CloudInstance>>(Instances.Values.Where(i => i.Name.StartsWith(InstanceNames.Prefix, StringComparison.Ordinal)).ToList());

    public Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        Instances.TryRemove(instanceId, out _);
        Deleted.Enqueue(instanceId);
        return Task.CompletedTask;
    }

    public Task RebootAsync(string instanceId, CancellationToken ct) => throw new NotSupportedException();
}
