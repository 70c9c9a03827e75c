using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>
/// Verda's (DataCrunch's) API on a real local port (providers.md, "Verda"): <c>/v1/oauth2/token</c> (anonymous,
/// expiring tokens), <c>instance-types</c>, <c>instance-availability</c>, <c>scripts</c>, <c>instances</c>, with
/// Verda's <c>{"code","message"}</c> errors. Scriptable: catalog, capacity per type, location and spot/on-demand
/// (create takes one, delete gives it back), a credit limit, slow boots, spot preemption, prices as strings or
/// numbers, and everything <see cref="ProviderStandIn"/> scripts. Bearer tokens are the ones it issued, not
/// <see cref="ProviderStandIn.ApiKey"/>.
/// </summary>
public sealed class VerdaStandIn : ProviderStandIn
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, VerdaStandInType> types = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Type, string Location, bool Spot), int> capacity = [];
    private readonly SortedSet<string> locations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, string Script)> scripts = new(StringComparer.Ordinal);
    private readonly List<VerdaStandInInstance> instances = [];
    private readonly VerdaStandInTokens tokens;
    private readonly TimeProvider time;
    private int addresses;

    public VerdaStandIn(TimeProvider? time = null)
    {
        this.time = time ?? TimeProvider.System;
        tokens = new VerdaStandInTokens(this.time);
    }

    public string ClientId { get; set; } = "test-client-id";

    public string ClientSecret { get; set; } = "test-client-secret";

    /// <summary>The <c>expires_in</c> of issued access tokens.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many tokens the token endpoint has issued.</summary>
    public int TokensIssued => tokens.Issued;

    /// <summary>Answer prices as strings ("2.1900", as Verda often does) rather than JSON numbers.</summary>
    public bool PricesAsStrings { get; set; } = true;

    /// <summary>Answer created ids as JSON <c>{"id":..}</c> instead of Verda's plain text.</summary>
    public bool AnswerIdsAsJson { get; set; }

    /// <summary>An account with this many instances gets <c>insufficient_funds</c> (Verda's limit is the credit); null = none.</summary>
    public int? MaxInstances { get; set; }

    /// <summary>GETs that still report a new instance ordered or provisioning.</summary>
    public int BootPolls { get; set; } = 1;

    /// <summary>GETs that report a new instance with <c>ip: null</c>.</summary>
    public int IpPolls { get; set; } = 1;

    /// <summary>Minimum time from create to running and IP, on top of the polls.</summary>
    public TimeSpan BootDelay { get; set; } = TimeSpan.Zero;

    /// <summary>A snapshot of every instance the account has.</summary>
    public IReadOnlyList<VerdaStandInInstance> Instances
    {
        get
        {
            lock (gate)
            {
                return instances.ToList();
            }
        }
    }

    protected override string PathBase => "/v1";

    /// <summary>1x H100 (FIN-01: 2 on-demand, 2 spot; FIN-02: 1 spot), 8x H100 (FIN-01: 1 on-demand), 1x A100 40GB (ICE-01: 2 each), 1x L40S (FIN-02: 1 on-demand).</summary>
    public VerdaStandIn AddDefaultCatalog() =>
        AddType(new VerdaStandInType("1H100.80S.30V", 2.19m, 0.99m, 1, "1x H100 SXM5 80GB", 80, 30, 120), ("FIN-01", 2, 2), ("FIN-02", 0, 1))
            .AddType(new VerdaStandInType("8H100.80S.176V", 17.52m, 7.92m, 8, "8x H100 SXM5 80GB", 640, 176, 1480), ("FIN-01", 1, 0))
            .AddType(new VerdaStandInType("1A100.22V", 1.29m, 0.45m, 1, "1x A100 SXM4 40GB", 40, 22, 120), ("ICE-01", 2, 2))
            .AddType(new VerdaStandInType("1L40S.20V", 1.10m, 0.40m, 1, "1x L40S 48GB", 48, 20, 60), ("FIN-02", 1, 0));

    /// <summary>Adds an instance type with its capacity per location (on-demand, spot).</summary>
    public VerdaStandIn AddType(VerdaStandInType type, params (string Location, int OnDemand, int Spot)[] perLocation)
    {
        lock (gate)
        {
            types[type.Name] = type;
            foreach (var (location, onDemand, spot) in perLocation)
            {
                locations.Add(location);
                capacity[(type.Name, location, false)] = onDemand;
                capacity[(type.Name, location, true)] = spot;
            }
        }
        return this;
    }

    public VerdaStandIn SetCapacity(string type, string location, bool spot, int count)
    {
        lock (gate)
        {
            locations.Add(location);
            capacity[(type, location, spot)] = count;
        }
        return this;
    }

    /// <summary>No more of this type in this location (spot and on-demand): the availability lists drop it, creates are refused.</summary>
    public void CapacityExhausted(string type, string location)
    {
        SetCapacity(type, location, false, 0);
        SetCapacity(type, location, true, 0);
    }

    public int Capacity(string type, string location, bool spot)
    {
        lock (gate)
        {
            return capacity.GetValueOrDefault((type, location, spot));
        }
    }

    /// <summary>Invalidates every access token before its time (the next call gets a 401); refresh tokens too when asked.</summary>
    public void RevokeTokens(bool refreshTokens = false) => tokens.Revoke(refreshTokens);

    /// <summary>Adds an instance as if created outside Atoll (someone else's, or an orphan of a crashed Atoll).</summary>
    public VerdaStandInInstance AddInstance(string hostname, string type, string location, bool isSpot = false, string status = "running")
    {
        lock (gate)
        {
            var instance = new VerdaStandInInstance(Guid.NewGuid().ToString(), hostname, type, location, isSpot, time.GetUtcNow())
            {
                Status = status,
                ForcedBoot = true,
            };
            AssignAddress(instance);
            instances.Add(instance);
            return instance;
        }
    }

    /// <summary>Makes the instance running now, with <paramref name="ip"/> (or a made-up one) as its IP.</summary>
    public void Boot(string id, string? ip = null) => Change(id, i =>
    {
        i.ForcedBoot = true;
        i.Status = "running";
        AssignAddress(i);
        i.Ip = ip ?? i.Ip;
    });

    public void SetStatus(string id, string status) => Change(id, i => i.Status = status);

    /// <summary>Spot discontinue: the instance goes <c>offline</c>, or disappears when <paramref name="vanish"/>; its capacity is freed.</summary>
    public void Preempt(string id, bool vanish = false) => Change(id, i =>
    {
        Release(i);
        if (vanish)
        {
            instances.Remove(i);
        }
        else
        {
            i.Status = "offline";
        }
    });

    protected override bool IsAnonymous(PathString path) => true; // tokens are checked in Map, with their expiry

    protected override (int Status, string Body) Unauthorized() =>
        (401, VerdaStandInJson.Error("unauthorized_request", "Invalid or expired access token"));

    protected override void Map(WebApplication app)
    {
        // Routing after the base's UsePathBase, so that routes match below the path base.
        app.UseRouting();
        app.MapPost("/oauth2/token", async (HttpRequest request) =>
        {
            var (status, body) = tokens.Grant(await VerdaStandInJson.ReadAsync(request), ClientId, ClientSecret, TokenLifetime);
            return VerdaStandInJson.Answer(status, body);
        });
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/oauth2") || tokens.IsValid(context.Request.Headers.Authorization.ToString()))
            {
                await next(context);
                return;
            }
            var (status, body) = Unauthorized();
            await WriteAsync(context, status, body, null);
        });
        app.MapGet("/instance-types", () => Locked(() =>
            VerdaStandInJson.Answer(200, new JsonArray(types.Values.Select(t => (JsonNode?)VerdaStandInJson.Type(t, PricesAsStrings)).ToArray()))));
        app.MapGet("/instance-availability", (bool? isSpot, string? location_code) => Locked(() =>
            VerdaStandInJson.Answer(200, new JsonArray(locations.Where(l => location_code is null || l == location_code)
                .Select(l => (JsonNode?)new JsonObject
                {
                    ["location_code"] = l,
                    ["availabilities"] = new JsonArray(types.Keys.Where(t => capacity.GetValueOrDefault((t, l, isSpot ?? false)) > 0).Select(t => (JsonNode?)t).ToArray()),
                }).ToArray()))));
        app.MapGet("/instance-availability/{type}", (string type, bool? isSpot, string? location_code) => Locked(() =>
            VerdaStandInJson.Answer(200, capacity.Any(c => c.Key.Type == type && c.Key.Spot == (isSpot ?? false)
                && (location_code is null || c.Key.Location == location_code) && c.Value > 0) ? "true" : "false")));
        app.MapPost("/scripts", async (HttpRequest request) =>
        {
            var body = await VerdaStandInJson.ReadAsync(request);
            if (VerdaStandInJson.Text(body, "name") is not { } name || VerdaStandInJson.Text(body, "script") is not { } script)
            {
                return VerdaStandInJson.Answer(400, VerdaStandInJson.Error("invalid_request", "name and script are required"));
            }
            var id = Guid.NewGuid().ToString();
            Locked(() => scripts[id] = (name, script));
            return VerdaStandInJson.Id(id, AnswerIdsAsJson);
        });
        app.MapGet("/scripts/{id}", (string id) => Locked(() => scripts.TryGetValue(id, out var s)
            ? VerdaStandInJson.Answer(200, new JsonArray(new JsonObject { ["id"] = id, ["name"] = s.Name, ["script"] = s.Script }))
            : NotFound("Startup script not found")));
        app.MapDelete("/scripts/{id}", (string id) => Locked(() => scripts.Remove(id) ? Results.Ok() : NotFound("Startup script not found")));
        app.MapGet("/instances", (string? status) => Locked(() =>
            VerdaStandInJson.Answer(200, new JsonArray(instances.ToList().Select(Observe)
                .Where(j => status is null || VerdaStandInJson.Text(j, "status") == status).ToArray<JsonNode?>()))));
        app.MapGet("/instances/{id}", (string id) => Locked(() =>
            instances.FirstOrDefault(i => i.Id == id) is { } found ? VerdaStandInJson.Answer(200, Observe(found)) : NotFound("Instance not found")));
        app.MapPost("/instances", async (HttpRequest request) => VerdaStandInOperations.Create(await VerdaStandInJson.ReadAsync(request), this));
        app.MapPut("/instances", async (HttpRequest request) => VerdaStandInOperations.Act(await VerdaStandInJson.ReadAsync(request), this));
    }

    // What VerdaStandInOperations needs of the account; Locked runs under the account's lock.
    internal T Locked<T>(Func<T> action)
    {
        lock (gate)
        {
            return action();
        }
    }

    internal IReadOnlyDictionary<string, VerdaStandInType> Types => types;

    internal IReadOnlySet<string> Locations => locations;

    internal Dictionary<(string Type, string Location, bool Spot), int> CapacityTable => capacity;

    internal Dictionary<string, (string Name, string Script)> Scripts => scripts;

    internal List<VerdaStandInInstance> InstanceList => instances;

    internal DateTimeOffset Now => time.GetUtcNow();

    // One GET's view of an instance; advances its boot. Called under the lock.
    private JsonObject Observe(VerdaStandInInstance instance)
    {
        instance.Polls++;
        var due = time.GetUtcNow() - instance.CreatedAt >= BootDelay;
        if (instance.Status is "ordered" or "provisioning")
        {
            instance.Status = instance.Polls > BootPolls && due ? "running" : instance.Polls > 1 ? "provisioning" : "ordered";
        }
        if (instance.Ip is null && (instance.ForcedBoot || (instance.Polls > IpPolls && due)))
        {
            AssignAddress(instance);
        }
        return VerdaStandInJson.Instance(instance, types.GetValueOrDefault(instance.InstanceType), PricesAsStrings);
    }

    private void Change(string id, Action<VerdaStandInInstance> change) => Locked(() =>
    {
        change(instances.FirstOrDefault(i => i.Id == id) ?? throw new ArgumentException($"no instance {id}", nameof(id)));
        return true;
    });

    internal void Release(VerdaStandInInstance instance)
    {
        if (instance.HoldsCapacity)
        {
            instance.HoldsCapacity = false;
            var key = (instance.InstanceType, instance.Location, instance.IsSpot);
            capacity[key] = capacity.GetValueOrDefault(key) + 1;
        }
    }

    private void AssignAddress(VerdaStandInInstance instance) =>
        instance.Ip ??= $"203.0.113.{Interlocked.Increment(ref addresses) % 250 + 1}";

    internal static IResult NotFound(string message) => VerdaStandInJson.Answer(404, VerdaStandInJson.Error("not_found", message));
}
