using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Atoll.Testing.Providers;

/// <summary>The JSON a <see cref="HetznerStandIn"/> answers (providers.md "Hetzner Cloud", hcloud-go's schema), and its label rules.</summary>
internal static partial class HetznerStandInJson
{
    public static JsonObject ServerType(HetznerStandInServerType type) => new()
    {
        ["id"] = type.Id,
        ["name"] = type.Name,
        ["description"] = type.Name.ToUpperInvariant(),
        ["cores"] = type.Cores,
        ["memory"] = type.MemoryGb,
        ["disk"] = type.DiskGb,
        ["deprecated"] = type.Deprecated,
        ["deprecation"] = type.Deprecated ? new JsonObject { ["announced"] = "2024-01-01T00:00:00Z", ["unavailable_after"] = "2024-04-01T00:00:00Z" } : null,
        ["storage_type"] = "local",
        ["cpu_type"] = type.CpuType,
        ["architecture"] = type.Architecture,
        ["prices"] = new JsonArray(type.Prices.Select(p => (JsonNode?)new JsonObject
        {
            ["location"] = p.Key,
            ["price_hourly"] = new JsonObject { ["net"] = p.Value.Net, ["gross"] = p.Value.Gross },
            ["price_monthly"] = new JsonObject { ["net"] = Monthly(p.Value.Net), ["gross"] = Monthly(p.Value.Gross) },
            ["included_traffic"] = 21990232555520,
        }).ToArray()),
    };

    public static JsonObject Location(string name) => new() { ["id"] = name.GetHashCode(StringComparison.Ordinal) & 0xffff, ["name"] = name, ["network_zone"] = "eu-central" };

    public static JsonObject Datacenter(string name, string location, JsonArray supported, JsonArray available, JsonArray forMigration) => new()
    {
        ["id"] = Math.Abs(name.GetHashCode(StringComparison.Ordinal) % 1000),
        ["name"] = name,
        ["description"] = name,
        ["location"] = Location(location),
        ["server_types"] = new JsonObject { ["supported"] = supported, ["available"] = available, ["available_for_migration"] = forMigration },
    };

    public static JsonObject Server(HetznerStandInServer server, string datacenter) => new()
    {
        ["id"] = server.Id,
        ["name"] = server.Name,
        ["status"] = server.Status,
        ["created"] = server.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssK", CultureInfo.InvariantCulture),
        ["public_net"] = new JsonObject
        {
            ["ipv4"] = server.Ip is null ? null : new JsonObject { ["id"] = server.Id + 1000, ["ip"] = server.Ip, ["blocked"] = false, ["dns_ptr"] = $"static.{server.Ip}.clients.your-server.de" },
            ["ipv6"] = new JsonObject { ["ip"] = "2001:db8::/64", ["blocked"] = false },
            ["floating_ips"] = new JsonArray(),
            ["firewalls"] = new JsonArray(),
        },
        ["private_net"] = new JsonArray(),
        ["server_type"] = ServerType(server.Type),
        ["datacenter"] = new JsonObject { ["id"] = 1, ["name"] = datacenter, ["description"] = datacenter, ["location"] = Location(server.Location) },
        ["image"] = new JsonObject { ["name"] = server.Image, ["type"] = "system" },
        ["labels"] = new JsonObject(server.Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
        ["locked"] = false,
        ["protection"] = new JsonObject { ["delete"] = false, ["rebuild"] = false },
    };

    public static JsonObject Action(long id, string command, long resource) => new()
    {
        ["id"] = id,
        ["command"] = command,
        ["status"] = "running",
        ["progress"] = 0,
        ["resources"] = new JsonArray(new JsonObject { ["id"] = resource, ["type"] = "server" }),
        ["error"] = null,
    };

    /// <summary>A page of <paramref name="items"/> under <paramref name="name"/> with <c>meta.pagination</c>.</summary>
    public static JsonObject Page(string name, IReadOnlyList<JsonObject> items, HttpRequest request, int maxPerPage)
    {
        var page = Math.Max(1, Query(request, "page", 1));
        var perPage = Math.Clamp(Query(request, "per_page", 25), 1, maxPerPage);
        var last = Math.Max(1, (items.Count + perPage - 1) / perPage);
        return new JsonObject
        {
            [name] = new JsonArray(items.Skip((page - 1) * perPage).Take(perPage).Select(i => (JsonNode?)i).ToArray()),
            ["meta"] = new JsonObject
            {
                ["pagination"] = new JsonObject
                {
                    ["page"] = page,
                    ["per_page"] = perPage,
                    ["previous_page"] = page > 1 ? page - 1 : null,
                    ["next_page"] = page < last ? page + 1 : null,
                    ["last_page"] = last,
                    ["total_entries"] = items.Count,
                },
            },
        };
    }

    public static string ErrorBody(string code, string message) =>
        new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["details"] = new JsonObject() } }.ToJsonString();

    public static IResult Error(int status, string code, string message) => Results.Content(ErrorBody(code, message), "application/json", statusCode: status);

    public static IResult Answer(int status, JsonNode body) => Results.Content(body.ToJsonString(), "application/json", statusCode: status);

    public static async Task<JsonNode?> ReadAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string? Text(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The first label that breaks Hetzner's rules, or null when all are valid.</summary>
    public static string? InvalidLabel(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in labels)
        {
            var slash = key.LastIndexOf('/');
            var name = slash >= 0 ? key[(slash + 1)..] : key;
            var prefix = slash >= 0 ? key[..slash] : null;
            if (name.Length is 0 or > 63 || !LabelName().IsMatch(name) || (prefix is not null && (prefix.Length > 253 || !LabelPrefix().IsMatch(prefix))))
            {
                return $"label key '{key}' is invalid";
            }
            if (value.Length > 63 || (value.Length > 0 && !LabelName().IsMatch(value)))
            {
                return $"label value '{value}' of '{key}' is invalid";
            }
        }
        return null;
    }

    /// <summary>Hetzner's label selector: comma-separated <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>.</summary>
    public static bool Matches(IReadOnlyDictionary<string, string> labels, string? selector)
    {
        foreach (var term in (selector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ok = term switch
            {
                _ when term.Contains("!=", StringComparison.Ordinal) => labels.GetValueOrDefault(term[..term.IndexOf("!=", StringComparison.Ordinal)]) != term[(term.IndexOf("!=", StringComparison.Ordinal) + 2)..],
                _ when term.Contains('=', StringComparison.Ordinal) => labels.GetValueOrDefault(term[..term.IndexOf('=', StringComparison.Ordinal)]) == term[(term.LastIndexOf('=') + 1)..],
                _ when term.StartsWith('!') => !labels.ContainsKey(term[1..]),
                _ => labels.ContainsKey(term),
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    private static int Query(HttpRequest request, string name, int fallback) =>
        int.TryParse(request.Query[name], out var value) ? value : fallback;

    private static string Monthly(string hourly) =>
        (decimal.Parse(hourly, CultureInfo.InvariantCulture) * 730).ToString("0.0000000000", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$")]
    private static partial Regex LabelName();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    private static partial Regex LabelPrefix();
}
