// The real provisioning pass (FleetReconciler.ReconcileOnceAsync) over N claims on a real store (SQLite in a temp
// dir, or PostgreSQL with --store URL): steady state (every claim Initialized, nothing to do but look), and a churn
// pass where 5 % of the instances vanished (terminate, delete node, launch a replacement each). Provider calls go to
// an in-memory provider, so the figures are Atoll's own work: store reads and writes and the decisions.
using System.Diagnostics;
using System.Globalization;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Core.Security;
using Atoll.Providers;
using Atoll.Server;
using Atoll.Server.Fleet;
using Atoll.Storage.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReconcileBench;

var claims = Arg("--claims", 2000);
var pools = Arg("--pools", 20);
var passes = Arg("--passes", 20);
var store = args.SkipWhile(a => a != "--store").Skip(1).FirstOrDefault();
var dir = Directory.CreateTempSubdirectory("atoll-reconcile-bench").FullName;
var provider = new MemoryProvider();
try
{
    var options = new ServerOptions { DataDir = dir, Store = store, Listen = "http://127.0.0.1:0" };
    options.Fleet.Enabled = false;
    options.Fleet.InstancePollInterval = TimeSpan.FromSeconds(1); // about one list call per provider per pass
    await using var app = await AtollServer.BuildAsync(options, b =>
    {
        b.Logging.ClearProviders();
        b.Services.AddSingleton<Func<ProviderContext, ICloudProvider>>(_ => provider);
    });
    var state = app.Services.GetRequiredService<IStateStore>();
    var reconciler = app.Services.GetRequiredService<FleetReconciler>();
    await reconciler.InitializeAsync(default);
    var cluster = app.Services.GetRequiredService<ProviderRegistry>().ClusterId;

    Console.Error.WriteLine($"seeding {claims} claims, nodes and instances in {pools} pools on {state.Description}...");
    var seed = Stopwatch.StartNew();
    await Seed(state, cluster, provider, claims, pools);
    Console.Error.WriteLine($"seeded in {seed.Elapsed.TotalSeconds:0.0}s");

    for (var i = 0; i < 3; i++)
    {
        await reconciler.ReconcileOnceAsync(default); // warm-up; also sweeps once
    }
    var steady = await Time(passes, () => reconciler.ReconcileOnceAsync(default));

    var poller = app.Services.GetRequiredService<InstancePoller>();
    var churn = new List<double>();
    var replaced = 0;
    for (var i = 0; i < Math.Max(3, passes / 4); i++)
    {
        foreach (var id in provider.Instances.Keys.Take(claims / 20).ToList())
        {
            provider.Instances.TryRemove(id, out _);
        }
        poller.Invalidate("mem"); // the next pass lists again, as it would after the poll interval
        var before = (await state.Fleet.ListClaimsAsync(null, true, default)).Count(c => c.Phase == ClaimPhases.Terminated);
        churn.AddRange(await Time(1, () => reconciler.ReconcileOnceAsync(default)));
        replaced += (await state.Fleet.ListClaimsAsync(null, true, default)).Count(c => c.Phase == ClaimPhases.Terminated) - before;
        // The replacements "boot": register their nodes so the next pass sees them as Initialized-to-be.
        await RegisterPending(state);
        await reconciler.ReconcileOnceAsync(default);
    }

    var active = (await state.Fleet.ListClaimsAsync(null, false, default)).Count;
    Console.WriteLine($"| pass | claims | passes | median ms | p99 ms | max ms | target | result |");
    Console.WriteLine($"|---|---:|---:|---:|---:|---:|---:|---|");
    Row("steady state: all Initialized, one provider list per pass", active, steady);
    Row($"churn: {claims / 20} instances vanished (terminate + relaunch each; {replaced} replaced in {churn.Count} passes)", active, churn);
    return steady.Concat(churn).All(x => x < 200) ? 0 : 1;
}
finally
{
    Directory.Delete(dir, recursive: true);
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}

static void Row(string what, int claims, List<double> ms)
{
    ms.Sort();
    var p99 = ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(ms.Count * 0.99) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {what} | {claims} | {ms.Count} | {ms[ms.Count / 2]:0.0} | {p99:0.0} | {ms[^1]:0.0} | < 200 ms | {(p99 < 200 ? "PASS" : "FAIL")} |"));
}

static async Task<List<double>> Time(int n, Func<Task> pass)
{
    var times = new List<double>();
    for (var i = 0; i < n; i++)
    {
        var sw = Stopwatch.StartNew();
        await pass();
        times.Add(sw.Elapsed.TotalMilliseconds);
    }
    return times;
}

static async Task Seed(IStateStore state, string cluster, MemoryProvider provider, int claims, int pools)
{
    var now = DateTimeOffset.UtcNow;
    var docs = new List<ResourceDocument>
    {
        new(ResourceKinds.ApiVersion, ResourceKinds.Provider, new ResourceMetadata("mem"), ResourceSpecs.ToJson(new ProviderSpec(ProviderTypes.Local))),
    };
    for (var p = 0; p < pools; p++)
    {
        docs.Add(new(ResourceKinds.ApiVersion, ResourceKinds.GpuPool, new ResourceMetadata($"pool-{p}"),
            ResourceSpecs.ToJson(new GpuPoolSpec(["mem"], new PoolRequirements(["H100"], 1), Replicas: claims / pools))));
    }
    await state.Fleet.ApplyAsync(docs, "bench", false, false, now, default);
    var offer = provider.Offer;
    for (var i = 0; i < claims; i++)
    {
        var pool = $"pool-{i % pools}";
        var name = $"{pool}-c{i:00000}";
        var instance = provider.Add(InstanceNames.For(cluster, name));
        await state.Fleet.InsertClaimAsync(new NodeClaim(name, pool, ClaimPhases.Pending, now), now, default);
        var claim = (await state.Fleet.GetClaimAsync(name, default))!;
        await state.Fleet.UpdateClaimAsync(claim with
        {
            Phase = ClaimPhases.Initialized, Provider = "mem", ProviderType = "local", InstanceType = offer.InstanceType, Region = offer.Region,
            CapacityType = offer.CapacityType, GpuModel = "H100", GpuCount = 1, PricePerHour = offer.PricePerHour, OnDemandPricePerHour = offer.OnDemandPricePerHour,
            InstanceId = instance.Id, NodeName = name, LaunchedAt = now, RegisteredAt = now, InitializedAt = now,
        }, now, default);
        await Register(state, name, pool, now);
    }
}

static async Task Register(IStateStore state, string name, string pool, DateTimeOffset now)
{
    var token = Tokens.New(Tokens.JoinPrefix);
    await state.AddJoinTokenAsync(new JoinTokenRecord(Tokens.NewId(), Tokens.Hash(token), 1, now.AddHours(1), pool, null, now, name), default);
    var node = new NodeView(name, "mem", "r1", null, "h100", CapacityTypes.Spot, pool, new Dictionary<string, string>(), GpuReport.None, [],
        [new NodeCondition(ConditionTypes.Ready, ConditionTypes.True, "AgentReporting", "bench", now)], now, now, "bench");
    await state.RegisterNodeAsync(Tokens.Hash(token), node, Tokens.Hash(Tokens.New(Tokens.NodePrefix)), now, now, default);
}

static async Task RegisterPending(IStateStore state)
{
    foreach (var claim in (await state.Fleet.ListClaimsAsync(null, false, default)).Where(c => c.Phase == ClaimPhases.Launched))
    {
        await Register(state, claim.Name, claim.Pool, DateTimeOffset.UtcNow);
    }
}
