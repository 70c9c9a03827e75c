using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Microsoft.Extensions.Logging;

namespace Atoll.Providers.Local;

/// <summary>
/// The <c>local</c> provider: a "VM" is an <c>atoll agent</c> with simulated GPUs plus an <c>atoll sim</c> serving its
/// model, both processes on the server's machine, started from the claim's bootstrap (its agent command). This is
/// what <c>atoll up</c> provisions through, so the quick start runs the same claim lifecycle as a real cloud.
/// Each shape lives in its own region with room for <c>ceil(maxNodes / shapes)</c> nodes, so a pool spreads over
/// regions and a full region answers InsufficientCapacity like a cloud would.
/// Settings: <c>command</c> (the atoll executable; default this process's), <c>dataDir</c> (logs and agent state).
/// </summary>
public sealed class LocalCloudProvider : ICloudProvider, IAsyncDisposable
{
    private readonly ProviderContext context;
    private readonly LocalProviderSpec spec;
    private readonly List<LocalShape> shapes;
    private readonly ConcurrentDictionary<string, LocalInstance> instances = new(StringComparer.Ordinal);
    private readonly ILogger logger;
    private readonly string dataDir;
    private readonly (string File, IReadOnlyList<string> Prefix) command;

    public LocalCloudProvider(ProviderContext context)
    {
        this.context = context;
        spec = context.Spec.Local ?? new LocalProviderSpec();
        shapes = (spec.Shapes is { Count: > 0 } s ? s : LocalShape.DefaultShapes).Select(LocalShape.Parse).ToList();
        logger = context.Logging.CreateLogger<LocalCloudProvider>();
        var settings = context.Spec.Settings ?? new Dictionary<string, string>();
        dataDir = settings.TryGetValue("dataDir", out var d) ? d : Path.Combine(Path.GetTempPath(), "atoll-local-" + context.ClusterId);
        command = settings.TryGetValue("command", out var c) ? (c, []) : SelfCommand();
    }

    public string Name => context.Name;

    public string Type => ProviderTypes.Local;

    public bool CanReboot => false;

    private int PerRegion => (int)Math.Ceiling(spec.MaxNodes / (double)Math.Max(1, shapes.Count));

    public Task<IReadOnlyList<Offer>> GetOffersAsync(CancellationToken ct)
    {
        var offers = new List<Offer>();
        foreach (var shape in shapes.Where(s => context.Spec.Regions is not { Count: > 0 } r || r.Contains(s.Region)))
        {
            var free = HasRoom(shape);
            offers.Add(shape.ToOffer(Name, CapacityTypes.Spot, free));
            offers.Add(shape.ToOffer(Name, CapacityTypes.OnDemand, free));
        }
        return Task.FromResult<IReadOnlyList<Offer>>(offers);
    }

    public Task<CloudInstance> CreateAsync(LaunchRequest request, CancellationToken ct)
    {
        var shape = shapes.FirstOrDefault(s => s.InstanceType == request.Offer.InstanceType && s.Region == request.Offer.Region)
            ?? throw new ProviderException(ProviderErrorReason.InvalidRequest, $"local: no instance type {request.Offer.InstanceType} in {request.Offer.Region}");
        if (request.Bootstrap.AgentCommand.Count == 0)
        {
            throw new ProviderException(ProviderErrorReason.InvalidRequest, "local: the bootstrap has no agent command");
        }
        lock (instances)
        {
            if (!HasRoom(shape))
            {
                throw new ProviderException(ProviderErrorReason.InsufficientCapacity,
                    $"local: region {shape.Region} is full ({PerRegion} of {spec.MaxNodes} local nodes)");
            }
            if (instances.ContainsKey(request.InstanceName))
            {
                throw new ProviderException(ProviderErrorReason.InvalidRequest, $"local: an instance named {request.InstanceName} already runs");
            }
            instances[request.InstanceName] = Start(request, shape);
        }
        logger.LogInformation("local: started {Instance} ({Shape}, {Capacity})", request.InstanceName, shape, request.Offer.CapacityType);
        return Task.FromResult(ToCloudInstance(instances[request.InstanceName]));
    }

    public Task<CloudInstance?> GetAsync(string instanceId, CancellationToken ct) =>
        Task.FromResult(instances.TryGetValue(instanceId, out var instance) ? ToCloudInstance(instance) : null);

    public Task<IReadOnlyList<CloudInstance>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<CloudInstance>>(instances.Values.Select(ToCloudInstance).ToList());

    public async Task DeleteAsync(string instanceId, CancellationToken ct)
    {
        if (instances.TryRemove(instanceId, out var instance))
        {
            await instance.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            logger.LogInformation("local: stopped {Instance}", instanceId);
        }
    }

    public Task RebootAsync(string instanceId, CancellationToken ct) =>
        throw new NotSupportedException("the local provider cannot reboot a node");

    /// <summary>Stands in for a spot preemption or a dead VM: kills the instance's processes without telling anyone.</summary>
    public bool Kill(string instanceId)
    {
        if (!instances.TryGetValue(instanceId, out var instance))
        {
            return false;
        }
        instance.Kill();
        return true;
    }

    /// <summary>
    /// The server is stopping: its local nodes stop with it, quickly (they would exit anyway when they see the
    /// server's pid gone); a real cloud's instances would keep running, these cannot outlive their host.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(instances.Values.Select(i => i.StopAsync(TimeSpan.FromSeconds(2)))).ConfigureAwait(false);
        instances.Clear();
    }

    private bool HasRoom(LocalShape shape) =>
        instances.Values.Count(i => i.Shape.Region == shape.Region) < PerRegion && instances.Count < spec.MaxNodes;

    private LocalInstance Start(LaunchRequest request, LocalShape shape)
    {
        var name = request.InstanceName;
        var port = FreePort();
        var parent = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var logs = Path.Combine(dataDir, "logs");
        var sim = LocalProcess.Start(command.File,
        [
            .. command.Prefix, "sim", "--port", port.ToString(CultureInfo.InvariantCulture), "--model", spec.Model, "--instance", name,
            "--ttft", shape.TtftMs.ToString(CultureInfo.InvariantCulture), "--itl", shape.ItlMs.ToString(CultureInfo.InvariantCulture),
            "--exit-with-parent", parent,
        ], Path.Combine(logs, name + "-sim.log"));
        // The join token goes in the environment, as the VM's unit file does, not on a command line `ps` shows.
        var token = ValueOf(request.Bootstrap.AgentCommand, "--join-token");
        var agent = LocalProcess.Start(command.File,
        [
            .. command.Prefix, .. Without(request.Bootstrap.AgentCommand, "--state", "--location", "--join-token"),
            "--gpus", shape.Gpus, "--location", shape.Region,
            "--state", Path.Combine(dataDir, "nodes", name),
            "--model", $"{spec.Model}=http://127.0.0.1:{port}",
            "--exit-with-parent", parent,
        ], Path.Combine(logs, name + ".log"), token is null ? null : new Dictionary<string, string> { ["ATOLL_JOIN_TOKEN"] = token });
        return new LocalInstance(name, shape, request.Offer.CapacityType, agent, sim);
    }

    private static string? ValueOf(IReadOnlyList<string> arguments, string option)
    {
        for (var i = 0; i + 1 < arguments.Count; i++)
        {
            if (arguments[i] == option)
            {
                return arguments[i + 1];
            }
        }
        return null;
    }

    /// <summary>The arguments without the given single-value options (this provider sets them per process).</summary>
    private static List<string> Without(IReadOnlyList<string> arguments, params string[] options)
    {
        var kept = new List<string>();
        for (var i = 0; i < arguments.Count; i++)
        {
            if (options.Contains(arguments[i]))
            {
                i++;
                continue;
            }
            kept.Add(arguments[i]);
        }
        return kept;
    }

    private static CloudInstance ToCloudInstance(LocalInstance i)
    {
        var (state, raw) = i.Agent.HasExited ? (InstanceState.Terminated, "exited") : (InstanceState.Running, "running");
        return new CloudInstance(i.Name, i.Name, state, raw, "127.0.0.1", "127.0.0.1", i.Shape.Region, i.Shape.InstanceType, i.CapacityType);
    }

    private static (string, IReadOnlyList<string>) SelfCommand()
    {
        var process = Environment.ProcessPath ?? throw new ProviderException(ProviderErrorReason.InvalidRequest, "local: cannot tell the path of the atoll executable; set settings.command");
        return Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (process, [Assembly.GetEntryAssembly()!.Location])
            : (process, []);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record LocalInstance(string Name, LocalShape Shape, string CapacityType, LocalProcess Agent, LocalProcess Sim)
    {
        public async Task StopAsync(TimeSpan grace)
        {
            await Task.WhenAll(Agent.StopAsync(grace), Sim.StopAsync(grace)).ConfigureAwait(false);
            Agent.Dispose();
            Sim.Dispose();
        }

        public void Kill()
        {
            foreach (var p in new[] { Agent, Sim })
            {
                if (!p.HasExited)
                {
                    p.Process.Kill(entireProcessTree: true);
                }
            }
        }
    }
}
