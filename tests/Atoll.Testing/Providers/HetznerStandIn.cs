using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Atoll.Testing.Providers.HetznerStandInJson;

namespace Atoll.Testing.Providers;

/// <summary>
/// Hetzner Cloud's API on a real local port (providers.md, "Hetzner Cloud"): <c>/v1/server_types</c> (decimal-string
/// prices per location), <c>datacenters</c> (<c>server_types.available</c>), <c>servers</c> (label selector,
/// <c>meta.pagination</c>), <c>servers/{id}</c> GET/DELETE, <c>actions/reboot</c>, with Hetzner's error bodies and
/// checks (label rules, user_data at most 32 KiB, unique names). Scriptable: capacity per type and location (unset =
/// plenty; create takes one, delete gives it back), a server limit, slow boots with a late IP, and everything
/// <see cref="ProviderStandIn"/> scripts.
/// </summary>
public sealed class HetznerStandIn : ProviderStandIn
{
    private const int MaxUserData = 32 * 1024;

    private readonly Lock gate = new();
    private readonly Dictionary<string, string> datacenters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HetznerStandInServerType> types = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Type, string Location), int> capacity = [];
    private readonly List<HetznerStandInServer> servers = [];
    private readonly TimeProvider time;
    private long ids = 4_200_000;
    private int addresses;

    public HetznerStandIn(TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>A project with this many servers gets <c>resource_limit_exceeded</c>; null = no limit.</summary>
    public int? MaxServers { get; set; }

    /// <summary>GETs that still report a new server <c>initializing</c>.</summary>
    public int BootPolls { get; set; } = 1;

    /// <summary>GETs that report a new server without <c>public_net.ipv4</c> (0: the IP comes with the create, as Hetzner does).</summary>
    public int IpPolls { get; set; }

    /// <summary>Minimum time from create to running and IP, on top of the polls.</summary>
    public TimeSpan BootDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Largest <c>per_page</c> the lists honour (Hetzner: 50).</summary>
    public int MaxPerPage { get; set; } = 50;

    public IReadOnlyList<HetznerStandInServer> Servers
    {
        get
        {
            lock (gate)
            {
                return servers.ToList();
            }
        }
    }

    protected override string PathBase => "/v1";

    /// <summary>fsn1, nbg1 and ash; cx22 (fsn1, nbg1), cpx31 (all three), ccx33 (fsn1), cx11 (deprecated).</summary>
    public HetznerStandIn AddDefaultCatalog() =>
        AddLocation("fsn1", "fsn1-dc14").AddLocation("nbg1", "nbg1-dc3").AddLocation("ash", "ash-dc1")
            .AddServerType(new HetznerStandInServerType(104, "cx22", 2, 4, 40, Prices(("fsn1", "0.0060000000", "0.0071400000"), ("nbg1", "0.0060000000", "0.0071400000"))))
            .AddServerType(new HetznerStandInServerType(9, "cpx31", 4, 8, 160, Prices(("fsn1", "0.0224000000", "0.0266560000"), ("nbg1", "0.0224000000", "0.0266560000"), ("ash", "0.0256000000", "0.0256000000"))))
            .AddServerType(new HetznerStandInServerType(97, "ccx33", 8, 32, 240, Prices(("fsn1", "0.0769000000", "0.0915110000")), CpuType: "dedicated"))
            .AddServerType(new HetznerStandInServerType(1, "cx11", 1, 2, 20, Prices(("fsn1", "0.0052000000", "0.0061880000")), Deprecated: true));

    public static IReadOnlyDictionary<string, (string Net, string Gross)> Prices(params (string Location, string Net, string Gross)[] prices) =>
        prices.ToDictionary(p => p.Location, p => (p.Net, p.Gross));

    public HetznerStandIn AddLocation(string location, string datacenter)
    {
        lock (gate)
        {
            datacenters[location] = datacenter;
        }
        return this;
    }

    public HetznerStandIn AddServerType(HetznerStandInServerType type)
    {
        lock (gate)
        {
            types[type.Name] = type;
        }
        return this;
    }

    public HetznerStandIn SetCapacity(string type, string location, int count)
    {
        lock (gate)
        {
            capacity[(type, location)] = count;
        }
        return this;
    }

    /// <summary>The type can no longer be ordered in the location: <c>datacenters</c> stops listing it as available, creates get <c>resource_unavailable</c>.</summary>
    public void CapacityExhausted(string type, string location) => SetCapacity(type, location, 0);

    /// <summary>Adds a running server as if created outside Atoll.</summary>
    public HetznerStandInServer AddServer(string name, string type, string location, IReadOnlyDictionary<string, string>? labels = null)
    {
        lock (gate)
        {
            var server = new HetznerStandInServer(++ids, name, types[type], location, time.GetUtcNow())
            {
                Status = "running",
                ForcedBoot = true,
                Labels = labels ?? new Dictionary<string, string>(),
            };
            AssignIp(server);
            servers.Add(server);
            return server;
        }
    }

    /// <summary>Makes the server running now, with <paramref name="ip"/> (or a made-up one).</summary>
    public void Boot(long id, string? ip = null) => Change(id, s =>
    {
        s.ForcedBoot = true;
        s.Status = "running";
        AssignIp(s);
        s.Ip = ip ?? s.Ip;
    });

    public void SetStatus(long id, string status) => Change(id, s => s.Status = status);

    /// <summary>Forgets the server: GETs answer <c>not_found</c>.</summary>
    public void Remove(long id) => Change(id, s =>
    {
        Release(s);
        servers.Remove(s);
    });

    protected override (int Status, string Body) Unauthorized() => (401, ErrorBody("unauthorized", "unable to authenticate"));

    protected override void Map(WebApplication app)
    {
        app.MapGet("/server_types", (HttpRequest request) =>
        {
            lock (gate)
            {
                return Answer(200, Page("server_types", types.Values.OrderBy(t => t.Id).Select(ServerType).ToList(), request, MaxPerPage));
            }
        });
        app.MapGet("/datacenters", (HttpRequest request) =>
        {
            lock (gate)
            {
                var list = datacenters.Select(dc => Datacenter(dc.Value, dc.Key,
                    Ids(types.Values.Where(t => t.Prices.ContainsKey(dc.Key))),
                    Ids(types.Values.Where(t => t.Prices.ContainsKey(dc.Key) && !t.Deprecated && Free(t.Name, dc.Key) > 0)),
                    Ids(types.Values.Where(t => t.Prices.ContainsKey(dc.Key) && !t.Deprecated)))).ToList();
                return Answer(200, Page("datacenters", list, request, MaxPerPage));
            }
        });
        app.MapGet("/servers", (HttpRequest request) =>
        {
            lock (gate)
            {
                var selected = servers.Where(s => Matches(s.Labels, request.Query["label_selector"])).ToList();
                return Answer(200, Page("servers", selected.Select(Observe).ToList(), request, MaxPerPage));
            }
        });
        app.MapPost("/servers", async (HttpRequest request) => Create(await ReadAsync(request)));
        app.MapGet("/servers/{id}", (string id) => WithServer(id, s => Answer(200, new JsonObject { ["server"] = Observe(s) })));
        app.MapDelete("/servers/{id}", (string id) => WithServer(id, s =>
        {
            Release(s);
            servers.Remove(s);
            return Answer(200, new JsonObject { ["action"] = Action(++ids, "delete_server", s.Id) });
        }));
        app.MapPost("/servers/{id}/actions/reboot", (string id) => WithServer(id, s =>
        {
            s.Reboots++;
            return Answer(201, new JsonObject { ["action"] = Action(++ids, "reboot_server", s.Id) });
        }));
    }

    private IResult Create(JsonNode? body)
    {
        var name = Text(body, "name");
        var typeName = Text(body, "server_type");
        var location = Text(body, "location");
        var userData = Text(body, "user_data") ?? "";
        var labels = (body?["labels"] as JsonObject)?.ToDictionary(l => l.Key, l => l.Value?.GetValue<string>() ?? "") ?? [];
        if (name is null || !System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$"))
        {
            return Error(400, "invalid_input", $"invalid input in field 'name': '{name}' is not a valid hostname");
        }
        if (Text(body, "image") is null || typeName is null || location is null)
        {
            return Error(400, "invalid_input", "image, server_type and location are required");
        }
        if (Encoding.UTF8.GetByteCount(userData) > MaxUserData)
        {
            return Error(400, "invalid_input", "invalid input in field 'user_data': user_data must not exceed 32 KiB");
        }
        if (InvalidLabel(labels) is { } label)
        {
            return Error(400, "invalid_input", $"invalid input in field 'labels': {label}");
        }
        lock (gate)
        {
            if (!types.TryGetValue(typeName, out var type) || !datacenters.TryGetValue(location, out var datacenter) || !type.Prices.ContainsKey(location))
            {
                return Error(400, "invalid_input", $"server type {typeName} is not supported in location {location}");
            }
            if (servers.Any(s => s.Name == name))
            {
                return Error(409, "uniqueness_error", "server name is already used");
            }
            if (MaxServers is { } max && servers.Count >= max)
            {
                return Error(403, "resource_limit_exceeded", $"server limit exceeded: this project may have {max} servers");
            }
            if (type.Deprecated || Free(typeName, location) <= 0)
            {
                return Error(403, "resource_unavailable", $"server type {typeName} is unavailable in location {location}");
            }
            if (capacity.ContainsKey((typeName, location)))
            {
                capacity[(typeName, location)]--;
            }
            var server = new HetznerStandInServer(++ids, name, type, location, time.GetUtcNow())
            {
                HoldsCapacity = true,
                Image = Text(body, "image"),
                UserData = userData,
                Labels = labels,
                SshKeys = (body?["ssh_keys"] as JsonArray ?? []).Select(k => k?.ToString() ?? "").ToList(),
                StartAfterCreate = body?["start_after_create"] is JsonValue v && v.TryGetValue<bool>(out var start) && start,
            };
            if (IpPolls <= 0)
            {
                AssignIp(server);
            }
            servers.Add(server);
            return Answer(201, new JsonObject
            {
                ["server"] = Server(server, datacenter),
                ["action"] = Action(++ids, "create_server", server.Id),
                ["next_actions"] = new JsonArray(Action(++ids, "start_server", server.Id)),
                ["root_password"] = null,
            });
        }
    }

    // One GET's view of a server: advances its boot. Under the lock.
    private JsonObject Observe(HetznerStandInServer server)
    {
        server.Polls++;
        var due = time.GetUtcNow() - server.CreatedAt >= BootDelay;
        if (server.Status == "initializing" && server.Polls > BootPolls && due)
        {
            server.Status = "running";
        }
        if (server.Ip is null && (server.ForcedBoot || (server.Polls > IpPolls && due)))
        {
            AssignIp(server);
        }
        return Server(server, datacenters.GetValueOrDefault(server.Location) ?? server.Location + "-dc1");
    }

    private IResult WithServer(string id, Func<HetznerStandInServer, IResult> action)
    {
        lock (gate)
        {
            return long.TryParse(id, out var n) && servers.FirstOrDefault(s => s.Id == n) is { } server
                ? action(server)
                : Error(404, "not_found", $"server with ID '{id}' not found");
        }
    }

    private int Free(string type, string location) => capacity.TryGetValue((type, location), out var n) ? n : int.MaxValue;

    private static JsonArray Ids(IEnumerable<HetznerStandInServerType> list) => new(list.Select(t => (JsonNode?)t.Id).ToArray());

    private void Change(long id, Action<HetznerStandInServer> change)
    {
        lock (gate)
        {
            change(servers.FirstOrDefault(s => s.Id == id) ?? throw new ArgumentException($"no server {id}", nameof(id)));
        }
    }

    private void Release(HetznerStandInServer server)
    {
        if (server.HoldsCapacity && capacity.ContainsKey((server.Type.Name, server.Location)))
        {
            capacity[(server.Type.Name, server.Location)]++;
        }
        server.HoldsCapacity = false;
    }

    private void AssignIp(HetznerStandInServer server) => server.Ip ??= $"198.18.0.{Interlocked.Increment(ref addresses) % 250 + 1}";
}
