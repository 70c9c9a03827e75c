using System.Text.Json.Nodes;
using Atoll.Core.Fleet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Atoll.Testing.Providers.TensorDockStandInJson;

namespace Atoll.Testing.Providers;

/// <summary>
/// TensorDock's v2 API on a real local port (providers.md, "TensorDock (v2)"): <c>/api/v2/locations</c>,
/// <c>POST instances</c> (JSON:API-style body, at least 100 GB disk, an SSH key), <c>GET instances</c> (a bare
/// <c>data[]</c>), <c>instances/{id}</c> GET/DELETE, with <c>{"errors":[{status,title,detail}]}</c> bodies (texts
/// made up). Scriptable: free GPUs per location and model (create takes them, delete gives them back), an instance
/// limit, slow boots (status and IP late), both IP field spellings, the wrapped list shape, and everything
/// <see cref="ProviderStandIn"/> scripts.
/// </summary>
public sealed class TensorDockStandIn : ProviderStandIn
{
    private readonly Lock gate = new();
    private readonly List<(string Id, string City, string State, string Country)> locations = [];
    private readonly Dictionary<(string Location, string Gpu), TensorDockStandInGpu> gpus = [];
    private readonly Dictionary<(string Location, string Gpu), int> free = [];
    private readonly List<TensorDockStandInInstance> instances = [];
    private readonly TimeProvider time;
    private int addresses;

    public TensorDockStandIn(TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>An organization with this many instances is refused ("instance limit reached"); null = no limit.</summary>
    public int? MaxInstances { get; set; }

    /// <summary>GETs that still report a new VM <c>starting</c>.</summary>
    public int BootPolls { get; set; } = 1;

    /// <summary>GETs that report a new VM without an IP.</summary>
    public int IpPolls { get; set; } = 1;

    /// <summary>Minimum time from create to running and IP, on top of the polls.</summary>
    public TimeSpan BootDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Report the IP as <c>ip_address</c> with <c>ssh_port</c> instead of <c>ipAddress</c> (both seen).</summary>
    public bool SnakeCaseIp { get; set; }

    /// <summary>Answer the list as <c>{"data":{"instances":[...]}}</c> instead of a bare <c>data[]</c>.</summary>
    public bool WrapInstanceList { get; set; }

    public IReadOnlyList<TensorDockStandInInstance> Instances
    {
        get
        {
            lock (gate)
            {
                return instances.ToList();
            }
        }
    }

    protected override string PathBase => "/api/v2";

    /// <summary>Austin (US): H100 SXM5 (8 free), RTX 4090 (4 free); Oslo (NO): A100 SXM4 (none free).</summary>
    public TensorDockStandIn AddDefaultCatalog() =>
        AddLocation("loc-austin", "Austin", "Texas", "United States")
            .AddGpu("loc-austin", new TensorDockStandInGpu("h100-sxm5-80gb", "H100 SXM5 80GB", 2.20m), 8)
            .AddGpu("loc-austin", new TensorDockStandInGpu("geforcertx4090-pcie-24gb", "GeForce RTX 4090 PCIe 24GB", 0.35m, MaxPerVm: 4, MaxVcpus: 32, MaxRamGb: 96), 4)
            .AddLocation("loc-oslo", "Oslo", "Oslo", "Norway")
            .AddGpu("loc-oslo", new TensorDockStandInGpu("a100-sxm4-80gb", "A100 SXM4 80GB", 0.90m), 0);

    public TensorDockStandIn AddLocation(string id, string city, string stateProvince, string country)
    {
        lock (gate)
        {
            locations.Add((id, city, stateProvince, country));
        }
        return this;
    }

    /// <summary>Offers <paramref name="gpu"/> at a location with <paramref name="freeGpus"/> free.</summary>
    public TensorDockStandIn AddGpu(string location, TensorDockStandInGpu gpu, int freeGpus)
    {
        lock (gate)
        {
            gpus[(location, gpu.V0Name)] = gpu;
            free[(location, gpu.V0Name)] = freeGpus;
        }
        return this;
    }

    public TensorDockStandIn SetCapacity(string location, string gpu, int freeGpus)
    {
        lock (gate)
        {
            free[(location, gpu)] = freeGpus;
        }
        return this;
    }

    /// <summary>No more free GPUs of this model here: creates are refused for capacity.</summary>
    public void CapacityExhausted(string location, string gpu) => SetCapacity(location, gpu, 0);

    public int Capacity(string location, string gpu)
    {
        lock (gate)
        {
            return free.GetValueOrDefault((location, gpu));
        }
    }

    /// <summary>Adds a running VM as if created outside Atoll.</summary>
    public TensorDockStandInInstance AddInstance(string name, string location, string gpu, int count = 1, string status = "running")
    {
        lock (gate)
        {
            var vm = new TensorDockStandInInstance(Guid.NewGuid().ToString(), name, location, gpu, count, time.GetUtcNow()) { Status = status, ForcedBoot = true };
            AssignIp(vm);
            instances.Add(vm);
            return vm;
        }
    }

    /// <summary>Makes the VM running now, with <paramref name="ip"/> (or a made-up one).</summary>
    public void Boot(string id, string? ip = null) => Change(id, vm =>
    {
        vm.ForcedBoot = true;
        vm.Status = "running";
        AssignIp(vm);
        vm.Ip = ip ?? vm.Ip;
    });

    public void SetStatus(string id, string status) => Change(id, vm => vm.Status = status);

    /// <summary>Forgets the VM (TensorDock has no spot; a host failure looks like this): GETs answer 404.</summary>
    public void Remove(string id) => Change(id, vm =>
    {
        Release(vm);
        instances.Remove(vm);
    });

    protected override (int Status, string Body) Unauthorized() => (401, ErrorBody(401, "Unauthorized", "Invalid or missing API token"));

    protected override void Map(WebApplication app)
    {
        app.MapGet("/locations", () =>
        {
            lock (gate)
            {
                var list = locations.Select(l => (JsonNode?)new JsonObject
                {
                    ["id"] = l.Id,
                    ["city"] = l.City,
                    ["stateprovince"] = l.State,
                    ["country"] = l.Country,
                    ["tier"] = 3,
                    ["gpus"] = new JsonArray(gpus.Where(g => g.Key.Location == l.Id)
                        .Select(g => (JsonNode?)Gpu(g.Value, free.GetValueOrDefault(g.Key))).ToArray()),
                }).ToArray();
                return Answer(200, new JsonObject { ["data"] = new JsonObject { ["locations"] = new JsonArray(list) } });
            }
        });
        app.MapPost("/instances", async (HttpRequest request) => Create(await ReadAsync(request)));
        app.MapGet("/instances", () =>
        {
            lock (gate)
            {
                var items = new JsonArray(instances.ToList().Where(Observe).Select(vm => (JsonNode?)Item(vm, SnakeCaseIp)).ToArray());
                return Answer(200, new JsonObject { ["data"] = WrapInstanceList ? new JsonObject { ["instances"] = items } : items });
            }
        });
        app.MapGet("/instances/{id}", (string id) =>
        {
            lock (gate)
            {
                return instances.FirstOrDefault(i => i.Id == id) is { } vm && Observe(vm)
                    ? Answer(200, Single(vm, SnakeCaseIp))
                    : Error(404, "Not Found", $"Instance {id} not found");
            }
        });
        app.MapDelete("/instances/{id}", (string id) =>
        {
            lock (gate)
            {
                if (instances.FirstOrDefault(i => i.Id == id) is not { } vm)
                {
                    return Error(404, "Not Found", $"Instance {id} not found");
                }
                Release(vm);
                instances.Remove(vm);
                return Answer(200, new JsonObject { ["data"] = new JsonObject { ["type"] = "virtualmachine", ["id"] = id, ["status"] = "deleted" } });
            }
        });
    }

    private IResult Create(JsonNode? body)
    {
        var data = body?["data"];
        var attributes = data?["attributes"];
        var resources = attributes?["resources"];
        var requested = (resources?["gpus"] as JsonObject)?.Select(g => (Gpu: g.Key, Count: Number(g.Value, "count"))).ToList() ?? [];
        var location = Text(attributes, "location_id");
        if (Text(data, "type") != "virtualmachine" || Text(attributes, "name") is not { Length: > 0 } name || Text(attributes, "image") is null)
        {
            return Error(400, "Bad Request", "data.type must be virtualmachine; name and image are required");
        }
        if (Number(resources, "storage_gb") < 100)
        {
            return Error(400, "Bad Request", "Minimum storage is 100GB");
        }
        if (string.IsNullOrWhiteSpace(Text(attributes, "ssh_key")))
        {
            return Error(400, "Bad Request", "ssh_key is required");
        }
        if (requested is not [var (gpu, count)] || count < 1)
        {
            return Error(400, "Bad Request", "At least one GPU is required for location-based deployment");
        }
        lock (gate)
        {
            if (location is null || !gpus.ContainsKey((location, gpu)))
            {
                return Error(400, "Bad Request", $"GPU {gpu} is not offered at location {location}");
            }
            if (MaxInstances is { } max && instances.Count >= max)
            {
                return Error(403, "Forbidden", $"Instance limit reached: your organization may run {max} instances");
            }
            if (free.GetValueOrDefault((location, gpu)) < count)
            {
                return Error(400, "Insufficient capacity", $"No available GPUs of type {gpu} at this location (requested {count}, free {free.GetValueOrDefault((location, gpu))})");
            }
            free[(location, gpu)] -= count;
            var cloudInit = attributes?["cloud_init"] as JsonObject;
            var vm = new TensorDockStandInInstance(Guid.NewGuid().ToString(), name, location, gpu, count, time.GetUtcNow())
            {
                HoldsCapacity = true,
                VcpuCount = Number(resources, "vcpu_count"),
                RamGb = Number(resources, "ram_gb"),
                StorageGb = Number(resources, "storage_gb"),
                Image = Text(attributes, "image"),
                SshKey = Text(attributes, "ssh_key"),
                UseDedicatedIp = attributes?["useDedicatedIp"] is JsonValue v && v.TryGetValue<bool>(out var dedicated) && dedicated,
                CloudInitJson = cloudInit?.ToJsonString(),
                Packages = Strings(cloudInit?["packages"]),
                RunCommands = Strings(cloudInit?["runcmd"]),
                WriteFiles = (cloudInit?["write_files"] as JsonArray ?? []).Select(f =>
                    new BootstrapFile(Text(f, "path") ?? "", Text(f, "content") ?? "", Text(f, "permissions") ?? "")).ToList(),
            };
            instances.Add(vm);
            // The documented answer says "running" at once; GETs then show the boot.
            return Answer(201, new JsonObject { ["data"] = new JsonObject { ["type"] = "virtualmachine", ["id"] = vm.Id, ["name"] = name, ["status"] = "running" } });
        }
    }

    // One GET's view of a VM: advances its boot. Under the lock.
    private bool Observe(TensorDockStandInInstance vm)
    {
        vm.Polls++;
        var due = time.GetUtcNow() - vm.CreatedAt >= BootDelay;
        if (vm.Status == "starting" && vm.Polls > BootPolls && due)
        {
            vm.Status = "running";
        }
        if (vm.Ip is null && (vm.ForcedBoot || (vm.Polls > IpPolls && due)))
        {
            AssignIp(vm);
        }
        return true;
    }

    private void Change(string id, Action<TensorDockStandInInstance> change)
    {
        lock (gate)
        {
            change(instances.FirstOrDefault(i => i.Id == id) ?? throw new ArgumentException($"no instance {id}", nameof(id)));
        }
    }

    private void Release(TensorDockStandInInstance vm)
    {
        if (vm.HoldsCapacity)
        {
            vm.HoldsCapacity = false;
            free[(vm.Location, vm.Gpu)] = free.GetValueOrDefault((vm.Location, vm.Gpu)) + vm.GpuCount;
        }
    }

    private void AssignIp(TensorDockStandInInstance vm) => vm.Ip ??= $"192.0.2.{Interlocked.Increment(ref addresses) % 250 + 1}";
}
