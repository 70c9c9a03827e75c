using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using static Atoll.Providers.Hetzner.HetznerJson;

namespace Atoll.Providers.Hetzner;

/// <summary>Hetzner JSON (server types, datacenters, servers) into Atoll's offers and instances.</summary>
internal static class HetznerMapping
{
    /// <summary>
    /// One CPU offer per server type and location it has a price in. The price is <c>price_hourly.net</c> (before
    /// VAT, as the other providers' prices are), a decimal string in EUR, times <paramref name="eurToUsd"/>. A type
    /// is available in a location when one of the location's datacenters lists its id in
    /// <c>server_types.available</c>. Deprecated types are left out: they cannot be ordered any more.
    /// </summary>
    public static IEnumerable<Offer> ToOffers(
        string provider, IEnumerable<JsonElement> serverTypes, IEnumerable<JsonElement> datacenters, IReadOnlyList<string> regions, decimal eurToUsd)
    {
        var available = new HashSet<(string Location, string TypeId)>();
        foreach (var dc in datacenters)
        {
            if (Str(dc, "location", "name") is not { } location)
            {
                continue;
            }
            foreach (var id in Array(dc, "server_types", "available"))
            {
                available.Add((location, id.GetRawText()));
            }
        }
        foreach (var type in serverTypes)
        {
            if (Str(type, "name") is not { } name || Str(type, "id") is not { } typeId
                || Prop(type, "deprecated") is { ValueKind: JsonValueKind.True } || Prop(type, "deprecation") is { ValueKind: JsonValueKind.Object })
            {
                continue;
            }
            foreach (var price in Array(type, "prices"))
            {
                if (Str(price, "location") is not { } location || Dec(price, "price_hourly", "net") is not { } net
                    || (regions.Count > 0 && !regions.Contains(location, StringComparer.OrdinalIgnoreCase)))
                {
                    continue;
                }
                var usd = decimal.Round(net * eurToUsd, 6);
                yield return new Offer(provider, ProviderTypes.Hetzner, name, location, CapacityTypes.OnDemand, null, 0, 0,
                    Int(type, "cores"), Int(type, "memory"), usd, usd, available.Contains((location, typeId)));
            }
        }
    }

    /// <summary>A <c>server</c> object; the public IPv4 is <c>public_net.ipv4.ip</c> (null until assigned or when disabled).</summary>
    public static CloudInstance ToInstance(JsonElement server, string? fallbackId = null)
    {
        var status = Str(server, "status") ?? "";
        var privateIp = Array(server, "private_net").Select(n => Str(n, "ip")).FirstOrDefault(ip => ip is not null);
        return new CloudInstance(
            Str(server, "id") ?? fallbackId ?? "",
            Str(server, "name") ?? "",
            State(status),
            status,
            Str(server, "public_net", "ipv4", "ip"),
            privateIp,
            Str(server, "datacenter", "location", "name") ?? Str(server, "location", "name"),
            Str(server, "server_type", "name"),
            CapacityTypes.OnDemand);
    }

    /// <summary>
    /// <c>initializing|starting|running|stopping|off|deleting|migrating|rebuilding|unknown</c>. A migrating server
    /// keeps running (live migration). Atoll creates servers with <c>start_after_create</c> and never powers them
    /// off, so <c>off</c> is a node taken down outside Atoll: Failed, to be replaced.
    /// </summary>
    public static InstanceState State(string status) => status switch
    {
        "initializing" or "starting" or "rebuilding" => InstanceState.Pending,
        "running" or "migrating" => InstanceState.Running,
        "stopping" or "deleting" => InstanceState.Terminating,
        "off" => InstanceState.Failed,
        _ => InstanceState.Unknown,
    };
}
