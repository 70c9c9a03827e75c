using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>
/// Lambda Cloud's API on a real local port (providers.md, "Lambda Cloud"): <c>/api/v1/instance-types</c>,
/// <c>instances</c>, <c>instance-operations/launch|terminate|restart</c>, with Lambda's error bodies. Scriptable:
/// catalog and capacity per type and region (launch takes one, terminate gives it back), an instance quota, slow
/// boots (status and IP late, counted in GETs and time), and everything <see cref="ProviderStandIn"/> scripts.
/// </summary>
public sealed class LambdaStandIn : ProviderStandIn
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, LambdaStandInType> types = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Type, string Region), int> capacity = [];
    private readonly List<LambdaStandInInstance> instances = [];
    private readonly TimeProvider time;
    private int addresses;

    public LambdaStandIn(TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>An account with this many instances (not terminated) gets <c>global/quota-exceeded</c>; null = no limit.</summary>
    public int? MaxInstances { get; set; }

    /// <summary>GETs that still report a new instance <c>booting</c>.</summary>
    public int BootPolls { get; set; } = 1;

    /// <summary>GETs that report a new instance without <c>ip</c> (may exceed <see cref="BootPolls"/>: active without IP).</summary>
    public int IpPolls { get; set; } = 1;

    /// <summary>Minimum time from launch to active and IP, on top of the polls.</summary>
    public TimeSpan BootDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Leave <c>specs.gpus</c> out of the catalog (the field name is unconfirmed).</summary>
    public bool OmitGpuSpecs { get; set; }

    /// <summary>A snapshot of every instance the account has.</summary>
    public IReadOnlyList<LambdaStandInInstance> Instances
    {
        get
        {
            lock (gate)
            {
                return instances.ToList();
            }
        }
    }

    protected override string PathBase => "/api/v1";

    /// <summary>A small real-looking catalog: A10 (us-west-1: 4, us-east-1: 2), H100 PCIe (us-west-3: 2), 8x H100 SXM5 (us-east-1: 1, us-south-1: 0), GH200 (us-east-3: 1).</summary>
    public LambdaStandIn AddDefaultCatalog() =>
        AddType(new LambdaStandInType("gpu_1x_a10", "1x A10 (24 GB PCIe)", 75, 1, 30, 200, 1400), ("us-west-1", 4), ("us-east-1", 2))
            .AddType(new LambdaStandInType("gpu_1x_h100_pcie", "1x H100 (80 GB PCIe)", 249, 1, 26, 200, 1000), ("us-west-3", 2))
            .AddType(new LambdaStandInType("gpu_8x_h100_sxm5", "8x H100 (80 GB SXM5)", 2392, 8, 208, 1800, 24780), ("us-east-1", 1), ("us-south-1", 0))
            .AddType(new LambdaStandInType("gpu_1x_gh200", "1x GH200 (96 GB)", 149, 1, 64, 432, 4096), ("us-east-3", 1));

    /// <summary>Adds an instance type with its capacity per region.</summary>
    public LambdaStandIn AddType(LambdaStandInType type, params (string Region, int Capacity)[] regions)
    {
        lock (gate)
        {
            types[type.Name] = type;
            foreach (var (region, count) in regions)
            {
                capacity[(type.Name, region)] = count;
            }
        }
        return this;
    }

    /// <summary>How many more instances of <paramref name="type"/> fit in <paramref name="region"/>.</summary>
    public LambdaStandIn SetCapacity(string type, string region, int count)
    {
        lock (gate)
        {
            capacity[(type, region)] = count;
        }
        return this;
    }

    /// <summary>No more instances of this type in this region: launches get <c>insufficient-capacity</c>.</summary>
    public void CapacityExhausted(string type, string region) => SetCapacity(type, region, 0);

    public int Capacity(string type, string region)
    {
        lock (gate)
        {
            return capacity.GetValueOrDefault((type, region));
        }
    }

    /// <summary>Adds an instance as if launched outside Atoll (another tool's, or an orphan of a crashed Atoll).</summary>
    public LambdaStandInInstance AddInstance(string name, string type, string region, string status = "active")
    {
        lock (gate)
        {
            var instance = new LambdaStandInInstance(NewId(), name, type, region, time.GetUtcNow()) { Status = status, ForcedBoot = true };
            AssignAddresses(instance);
            instances.Add(instance);
            return instance;
        }
    }

    /// <summary>Makes the instance active now, with <paramref name="ip"/> (or a made-up one) as its public IP.</summary>
    public void Boot(string id, string? ip = null) => Change(id, i =>
    {
        i.ForcedBoot = true;
        i.Status = "active";
        AssignAddresses(i);
        i.Ip = ip ?? i.Ip;
    });

    /// <summary>Sets any status (<c>unhealthy</c>, <c>preempted</c>, ...).</summary>
    public void SetStatus(string id, string status) => Change(id, i => i.Status = status);

    /// <summary>Takes the instance back (Lambda sells no spot; <c>preempted</c> is unconfirmed) and frees its capacity.</summary>
    public void Preempt(string id) => Change(id, i =>
    {
        i.Status = "preempted";
        Release(i);
    });

    /// <summary>Forgets the instance: GETs answer <c>global/object-does-not-exist</c>.</summary>
    public void Remove(string id) => Change(id, i =>
    {
        Release(i);
        instances.Remove(i);
    });

    protected override (int Status, string Body) Unauthorized() =>
        (401, LambdaStandInJson.Error("global/invalid-api-key", "API key was invalid, expired, or deleted.", "Check your API key or create a new one, then try again."));

    protected override void Map(WebApplication app)
    {
        // Routing after the base's UsePathBase, so that routes match below the path base.
        app.UseRouting();
        app.MapGet("/instance-types", () => LambdaStandInJson.Answer(200, Catalog()));
        app.MapGet("/instances", () =>
        {
            lock (gate)
            {
                var seen = instances.ToList().Select(Observe).OfType<JsonObject>().ToArray<JsonNode?>();
                return LambdaStandInJson.Answer(200, new JsonObject { ["data"] = new JsonArray(seen) });
            }
        });
        app.MapGet("/instances/{id}", (string id) =>
        {
            lock (gate)
            {
                var found = instances.FirstOrDefault(i => i.Id == id);
                return found is not null && Observe(found) is { } json ? LambdaStandInJson.Answer(200, new JsonObject { ["data"] = json }) : LambdaStandInJson.Missing();
            }
        });
        app.MapPost("/instance-operations/launch", async (HttpRequest request) => Launch(await LambdaStandInJson.ReadAsync(request)));
        app.MapPost("/instance-operations/terminate", async (HttpRequest request) => Operate(await LambdaStandInJson.ReadAsync(request), "terminated_instances", i =>
        {
            i.Status = "terminating";
            Release(i);
        }));
        app.MapPost("/instance-operations/restart", async (HttpRequest request) => Operate(await LambdaStandInJson.ReadAsync(request), "restarted_instances", i => i.Restarts++));
    }

    private IResult Launch(JsonNode? body)
    {
        var type = LambdaStandInJson.Text(body, "instance_type_name");
        var region = LambdaStandInJson.Text(body, "region_name");
        var keys = body?["ssh_key_names"] as JsonArray;
        lock (gate)
        {
            return Launch(body, type, region, keys);
        }
    }

    private IResult Launch(JsonNode? body, string? type, string? region, JsonArray? keys)
    {
        if (type is null || region is null || !types.ContainsKey(type))
        {
            return LambdaStandInJson.Invalid("instance_type_name and region_name must name an instance type and a region.");
        }
        if (keys is not { Count: 1 })
        {
            return LambdaStandInJson.Invalid("ssh_key_names must contain exactly one SSH key name.");
        }
        if ((body?["quantity"]?.GetValue<int>() ?? 1) != 1)
        {
            return LambdaStandInJson.Invalid("This stand-in launches one instance at a time.");
        }
        if (MaxInstances is { } max && instances.Count(i => i.Status is not ("terminating" or "terminated")) >= max)
        {
            return LambdaStandInJson.Answer(400, LambdaStandInJson.Error("global/quota-exceeded", $"Quota exceeded: this account may run {max} instances.", "Terminate instances or contact support to raise your quota."));
        }
        if (capacity.GetValueOrDefault((type, region)) <= 0)
        {
            return LambdaStandInJson.Answer(400, LambdaStandInJson.Error("instance-operations/launch/insufficient-capacity", "Not enough capacity to fulfill launch request.",
                "Choose an instance type with more availability, or try again later."));
        }
        capacity[(type, region)]--;
        var instance = new LambdaStandInInstance(NewId(), LambdaStandInJson.Text(body, "name") ?? "", type, region, time.GetUtcNow())
        {
            UserData = LambdaStandInJson.Text(body, "user_data"),
            SshKeyNames = keys.Select(k => k!.GetValue<string>()).ToList(),
            HoldsCapacity = true,
        };
        instances.Add(instance);
        return LambdaStandInJson.Answer(200, new JsonObject { ["data"] = new JsonObject { ["instance_ids"] = new JsonArray(instance.Id) } });
    }

    private IResult Operate(JsonNode? body, string answer, Action<LambdaStandInInstance> action)
    {
        var ids = (body?["instance_ids"] as JsonArray)?.Select(n => n?.GetValue<string>()).ToList() ?? [];
        lock (gate)
        {
            var found = ids.Select(id => instances.FirstOrDefault(i => i.Id == id)).ToList();
            if (ids.Count == 0 || found.Any(i => i is null))
            {
                return LambdaStandInJson.Missing();
            }
            var done = new JsonArray();
            foreach (var instance in found.OfType<LambdaStandInInstance>())
            {
                action(instance);
                done.Add(LambdaStandInJson.Instance(instance, types.GetValueOrDefault(instance.InstanceType), OmitGpuSpecs));
            }
            return LambdaStandInJson.Answer(200, new JsonObject { ["data"] = new JsonObject { [answer] = done } });
        }
    }

    // One GET's view of an instance; advances its boot and its termination. Null once gone. Called under the lock.
    private JsonObject? Observe(LambdaStandInInstance instance)
    {
        instance.Polls++;
        var due = time.GetUtcNow() - instance.CreatedAt >= BootDelay;
        if (instance.Status == "booting" && instance.Polls > BootPolls && due)
        {
            instance.Status = "active";
        }
        if (instance.Ip is null && (instance.ForcedBoot || (instance.Polls > IpPolls && due)))
        {
            AssignAddresses(instance);
        }
        if (instance.Status == "terminating")
        {
            if (instance.TerminatingSeen)
            {
                instances.Remove(instance);
                return null;
            }
            instance.TerminatingSeen = true;
        }
        return LambdaStandInJson.Instance(instance, types.GetValueOrDefault(instance.InstanceType), OmitGpuSpecs);
    }

    private JsonObject Catalog()
    {
        lock (gate)
        {
            var data = new JsonObject();
            foreach (var type in types.Values)
            {
                var regions = capacity.Where(c => c.Key.Type == type.Name && c.Value > 0)
                    .Select(c => (JsonNode?)new JsonObject { ["name"] = c.Key.Region, ["description"] = c.Key.Region })
                    .ToArray();
                data[type.Name] = new JsonObject { ["instance_type"] = LambdaStandInJson.Type(type, OmitGpuSpecs), ["regions_with_capacity_available"] = new JsonArray(regions) };
            }
            return new JsonObject { ["data"] = data };
        }
    }

    private void Change(string id, Action<LambdaStandInInstance> change)
    {
        lock (gate)
        {
            change(instances.FirstOrDefault(i => i.Id == id) ?? throw new ArgumentException($"no instance {id}", nameof(id)));
        }
    }

    private void Release(LambdaStandInInstance instance)
    {
        if (instance.HoldsCapacity)
        {
            instance.HoldsCapacity = false;
            capacity[(instance.InstanceType, instance.Region)] = capacity.GetValueOrDefault((instance.InstanceType, instance.Region)) + 1;
        }
    }

    private void AssignAddresses(LambdaStandInInstance instance)
    {
        if (instance.Ip is null)
        {
            var n = Interlocked.Increment(ref addresses);
            instance.Ip = $"198.51.100.{n % 250 + 1}";
            instance.PrivateIp = $"10.19.0.{n % 250 + 1}";
        }
    }

    private static string NewId() => Guid.NewGuid().ToString("N");
}
