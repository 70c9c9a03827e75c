using System.Text.Json.Nodes;
using Atoll.Core.Fleet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Atoll.Testing.Providers.VoltageParkStandInJson;

namespace Atoll.Testing.Providers;

/// <summary>
/// Voltage Park's API on a real local port (providers.md, "Voltage Park"): <c>/api/v1/virtual-machines/instant/locations</c>
/// (paged presets with <c>available_vms</c>), <c>POST virtual-machines/instant</c> (cloud-init limited to packages,
/// write_files and runcmd), <c>virtual-machines/</c> (offset paging), <c>virtual-machines/{id}</c> GET/DELETE and
/// <c>power-status</c>, with <c>{"detail"}</c> error bodies (the SDK's shape; the texts are made up). Scriptable:
/// capacity per preset (create takes one, delete and preemption give it back), a VM quota, late IPs, preemption
/// (<c>Outbid</c>), and everything <see cref="ProviderStandIn"/> scripts.
/// </summary>
public sealed class VoltageParkStandIn : ProviderStandIn
{
    private static readonly string[] CloudInitKeys = ["packages", "write_files", "runcmd"];

    private readonly Lock gate = new();
    private readonly List<(string Id, string Name)> locations = [];
    private readonly Dictionary<string, (VoltageParkStandInPreset Preset, string Location)> presets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> capacity = new(StringComparer.Ordinal);
    private readonly List<VoltageParkStandInVm> vms = [];
    private readonly TimeProvider time;
    private int addresses;

    public VoltageParkStandIn(TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>An organization with this many VMs (not terminated) is refused with a quota error; null = no limit.</summary>
    public int? MaxVms { get; set; }

    /// <summary>GETs that report a new VM without <c>public_ip</c> (it is <c>Running</c> from the start).</summary>
    public int IpPolls { get; set; } = 1;

    /// <summary>Minimum time from create to IP, on top of the polls.</summary>
    public TimeSpan BootDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Largest page the lists answer (the <c>limit</c> asked for is honoured up to this).</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>Pages of the locations list carry a <c>next</c> URL (besides <c>has_next</c>).</summary>
    public bool LinkNextPage { get; set; }

    /// <summary>A snapshot of every VM of the organization.</summary>
    public IReadOnlyList<VoltageParkStandInVm> Instances
    {
        get
        {
            lock (gate)
            {
                return vms.ToList();
            }
        }
    }

    protected override string PathBase => "/api/v1";

    /// <summary>Two locations: 8x H100 (2 VMs) and 1x H100 (4) in us-west, 8x H100 (0) in us-east.</summary>
    public VoltageParkStandIn AddDefaultCatalog() =>
        AddPreset("loc-us-west", new VoltageParkStandInPreset("vp-8xh100-west", "h100-sxm5-80gb", 8, 15.92m, 0.08m, 208, 1800, 20000), 2)
            .AddPreset("loc-us-west", new VoltageParkStandInPreset("vp-1xh100-west", "h100-sxm5-80gb", 1, 1.99m, 0.01m), 4)
            .AddPreset("loc-us-east", new VoltageParkStandInPreset("vp-8xh100-east", "h100-sxm5-80gb", 8, 15.92m, 0.08m, 208, 1800, 20000), 0);

    /// <summary>Adds a preset to a location (created on first use) with room for <paramref name="availableVms"/> VMs.</summary>
    public VoltageParkStandIn AddPreset(string location, VoltageParkStandInPreset preset, int availableVms, string? locationName = null)
    {
        lock (gate)
        {
            if (!locations.Any(l => l.Id == location))
            {
                locations.Add((location, locationName ?? location));
            }
            presets[preset.Id] = (preset, location);
            capacity[preset.Id] = availableVms;
        }
        return this;
    }

    public VoltageParkStandIn SetCapacity(string presetId, int availableVms)
    {
        lock (gate)
        {
            capacity[presetId] = availableVms;
        }
        return this;
    }

    /// <summary>No more VMs of this preset: creates are refused for capacity.</summary>
    public void CapacityExhausted(string presetId) => SetCapacity(presetId, 0);

    public int Capacity(string presetId)
    {
        lock (gate)
        {
            return capacity.GetValueOrDefault(presetId);
        }
    }

    /// <summary>Adds a VM as if created outside Atoll (another tool's, or an orphan of a crashed Atoll).</summary>
    public VoltageParkStandInVm AddVm(string name, string presetId, string status = "Running")
    {
        lock (gate)
        {
            var vm = new VoltageParkStandInVm(NewId(), name, presetId, presets.GetValueOrDefault(presetId).Location ?? "", time.GetUtcNow())
            {
                Status = status,
                ForcedBoot = true,
            };
            AssignAddresses(vm);
            vms.Add(vm);
            return vm;
        }
    }

    /// <summary>Gives the VM its IP now (<paramref name="ip"/> or a made-up one).</summary>
    public void Boot(string id, string? ip = null) => Change(id, vm =>
    {
        vm.ForcedBoot = true;
        vm.Status = "Running";
        AssignAddresses(vm);
        vm.PublicIp = ip ?? vm.PublicIp;
    });

    public void SetStatus(string id, string status) => Change(id, vm => vm.Status = status);

    /// <summary>A spot VM outbid: status <c>Outbid</c>, capacity freed.</summary>
    public void Preempt(string id) => Change(id, vm =>
    {
        vm.Status = "Outbid";
        Release(vm);
    });

    /// <summary>Forgets the VM: GETs answer 404.</summary>
    public void Remove(string id) => Change(id, vm =>
    {
        Release(vm);
        vms.Remove(vm);
    });

    protected override (int Status, string Body) Unauthorized() => (401, """{"detail":"Invalid token."}""");

    protected override void Map(WebApplication app)
    {
        app.MapGet("/virtual-machines/instant/locations", (HttpRequest request) =>
        {
            lock (gate)
            {
                var all = locations.Select(l => Location(l.Id, l.Name,
                    presets.Values.Where(p => p.Location == l.Id).Select(p => Preset(p.Preset, Math.Max(0, capacity.GetValueOrDefault(p.Preset.Id)))))).ToList();
                var (offset, limit) = Paging(request);
                var next = LinkNextPage ? $"{BaseUrl}/virtual-machines/instant/locations?offset={offset + limit}&limit={limit}" : null;
                return Answer(200, Page(all, offset, limit, next));
            }
        });
        app.MapPost("/virtual-machines/instant", async (HttpRequest request) => Create(await ReadAsync(request)));
        app.MapGet("/virtual-machines", (HttpRequest request) =>
        {
            lock (gate)
            {
                var seen = vms.ToList().Select(Observe).OfType<JsonObject>().ToList();
                var (offset, limit) = Paging(request);
                return Answer(200, Page(seen, offset, limit, null));
            }
        });
        app.MapGet("/virtual-machines/{id}", (string id) =>
        {
            lock (gate)
            {
                return vms.FirstOrDefault(v => v.Id == id) is { } vm && Observe(vm) is { } json ? Answer(200, json) : Detail(404, "Not found.");
            }
        });
        app.MapDelete("/virtual-machines/{id}", (string id) =>
        {
            lock (gate)
            {
                if (vms.FirstOrDefault(v => v.Id == id) is not { } vm)
                {
                    return Detail(404, "Not found.");
                }
                vm.Status = "Terminated";
                Release(vm);
                return Results.NoContent();
            }
        });
        app.MapPut("/virtual-machines/{id}/power-status", async (string id, HttpRequest request) =>
        {
            var status = Text(await ReadAsync(request), "status") switch
            {
                "started" => "Running",
                "stopped" => "Stopped",
                "stopped_disassociated" => "StoppedDisassociated",
                _ => null,
            };
            lock (gate)
            {
                if (vms.FirstOrDefault(v => v.Id == id) is not { } vm)
                {
                    return Detail(404, "Not found.");
                }
                if (status is null)
                {
                    return Detail(400, "status must be one of started, stopped, stopped_disassociated.");
                }
                vm.Status = status;
                return Answer(200, VoltageParkStandInJson.Vm(vm, presets.GetValueOrDefault(vm.PresetId).Preset));
            }
        });
    }

    private IResult Create(JsonNode? body)
    {
        var configId = Text(body, "config_id");
        var name = Text(body, "name");
        var cloudInit = body?["cloud_init"] as JsonObject;
        var keys = body?["organization_ssh_keys"] as JsonObject;
        if (configId is null || string.IsNullOrEmpty(name))
        {
            return Detail(400, "config_id and name are required.");
        }
        if (cloudInit is not null && cloudInit.Select(p => p.Key).Except(CloudInitKeys).FirstOrDefault() is { } extra)
        {
            return Detail(400, $"cloud_init.{extra} is not supported: use packages, write_files and runcmd.");
        }
        if (Text(keys, "mode") is not ("none" or "all" or "selective")
            || (Text(keys, "mode") == "selective" && keys?["ssh_key_ids"] is not JsonArray { Count: > 0 }))
        {
            return Detail(400, "organization_ssh_keys: mode must be none, all or selective (with ssh_key_ids).");
        }
        lock (gate)
        {
            if (!presets.TryGetValue(configId, out var preset))
            {
                return Detail(400, $"config_id {configId} is not an available preset.");
            }
            if (MaxVms is { } max && vms.Count(v => v.Status != "Terminated") >= max)
            {
                return Detail(400, $"Quota exceeded: your organization may run {max} virtual machines.");
            }
            if (capacity.GetValueOrDefault(configId) <= 0)
            {
                return Detail(400, $"No virtual machines available for preset {configId}: insufficient capacity, try another location.");
            }
            capacity[configId]--;
            var vm = new VoltageParkStandInVm(NewId(), name, configId, preset.Location, time.GetUtcNow())
            {
                HoldsCapacity = true,
                CloudInitJson = cloudInit?.ToJsonString(),
                Packages = Strings(cloudInit?["packages"]),
                RunCommands = Strings(cloudInit?["runcmd"]),
                WriteFiles = (cloudInit?["write_files"] as JsonArray ?? []).Select(f =>
                    new BootstrapFile(Text(f, "path") ?? "", Text(f, "content") ?? "", Text(f, "permissions") ?? "")).ToList(),
                Tags = Strings(body?["tags"]),
                OrganizationSshKeysJson = keys?.ToJsonString(),
            };
            vms.Add(vm);
            return Answer(201, new JsonObject { ["vm_id"] = vm.Id });
        }
    }

    // One GET's view of a VM; advances its late IP; a terminated VM is shown once, then gone. Under the lock.
    private JsonObject? Observe(VoltageParkStandInVm vm)
    {
        vm.Polls++;
        if (vm.PublicIp is null && (vm.ForcedBoot || (vm.Polls > IpPolls && time.GetUtcNow() - vm.CreatedAt >= BootDelay)))
        {
            AssignAddresses(vm);
        }
        if (vm.Status == "Terminated")
        {
            if (vm.TerminatedSeen)
            {
                vms.Remove(vm);
                return null;
            }
            vm.TerminatedSeen = true;
        }
        return VoltageParkStandInJson.Vm(vm, presets.GetValueOrDefault(vm.PresetId).Preset);
    }

    private (int Offset, int Limit) Paging(HttpRequest request) =>
        (Query(request, "offset", 0), Math.Clamp(Query(request, "limit", PageSize), 1, PageSize));

    private void Change(string id, Action<VoltageParkStandInVm> change)
    {
        lock (gate)
        {
            change(vms.FirstOrDefault(v => v.Id == id) ?? throw new ArgumentException($"no VM {id}", nameof(id)));
        }
    }

    private void Release(VoltageParkStandInVm vm)
    {
        if (vm.HoldsCapacity)
        {
            vm.HoldsCapacity = false;
            capacity[vm.PresetId] = capacity.GetValueOrDefault(vm.PresetId) + 1;
        }
    }

    private void AssignAddresses(VoltageParkStandInVm vm)
    {
        if (vm.PublicIp is null)
        {
            var n = Interlocked.Increment(ref addresses);
            vm.PublicIp = $"203.0.113.{n % 250 + 1}";
            vm.InternalIp = $"10.40.0.{n % 250 + 1}";
        }
    }

    private static string NewId() => Guid.NewGuid().ToString();
}
