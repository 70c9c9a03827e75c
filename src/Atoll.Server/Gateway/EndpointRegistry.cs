using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Routing;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Gateway;

/// <summary>
/// The endpoints the gateway may route to, rebuilt from the node registry and static configuration. Live state
/// (in-flight, ejection, RTT) survives refreshes because endpoints are kept by id; readers get immutable snapshots.
/// </summary>
internal sealed class EndpointRegistry(IOptions<GatewayOptions> options, PrefixIndex prefixes, TimeProvider time)
{
    private readonly Lock gate = new();
    private Dictionary<string, RoutableEndpoint> byId = new(StringComparer.Ordinal);
    private volatile FrozenDictionary<string, RoutableEndpoint[]> byModel = FrozenDictionary<string, RoutableEndpoint[]>.Empty;
    private volatile RoutableEndpoint[] all = [];

    /// <summary>Every endpoint, in any state.</summary>
    public IReadOnlyList<RoutableEndpoint> All => all;

    /// <summary>Endpoints that serve <paramref name="model"/> (empty when none).</summary>
    public RoutableEndpoint[] ForModel(string model) => byModel.TryGetValue(model, out var list) ? list : [];

    /// <summary>Models with at least one endpoint that can take traffic now.</summary>
    public IEnumerable<string> ServableModels()
    {
        var now = time.GetUtcNow();
        return byModel.Where(m => m.Value.Any(e => e.NodeReady && e.ServerHealthy && !e.Health.IsEjected(now))).Select(m => m.Key).Order();
    }

    /// <summary>Replaces the endpoint set with what <paramref name="nodes"/> and the static list describe.</summary>
    public void Update(IReadOnlyList<NodeView> nodes)
    {
        var wanted = new Dictionary<string, (ModelEndpoint Model, NodeView? Node)>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var m in node.Models)
            {
                wanted[$"{node.Name}/{m.Model}/{ModelEndpoint.BaseUrl(m.Url)}"] = (m, node);
            }
        }
        foreach (var m in options.Value.StaticEndpoints)
        {
            wanted[$"static/{m.Model}/{ModelEndpoint.BaseUrl(m.Url)}"] = (m, null);
        }
        var shared = wanted.Values.CountBy(w => (w.Node?.Name, w.Model.Model)).Where(c => c.Value > 1).Select(c => c.Key).ToHashSet();

        lock (gate)
        {
            var next = new Dictionary<string, RoutableEndpoint>(StringComparer.Ordinal);
            foreach (var (id, (model, node)) in wanted)
            {
                if (!byId.TryGetValue(id, out var endpoint))
                {
                    endpoint = Create(id, model, node);
                }
                endpoint.NodeReady = node is null || NodeConditions.IsTrue(node.Conditions, ConditionTypes.Ready);
                endpoint.Name = PublicName(node?.Name, model.Model, shared.Contains((node?.Name, model.Model)) ? endpoint.Url : null);
                next[id] = endpoint;
            }
            foreach (var gone in byId.Keys.Where(id => !next.ContainsKey(id)))
            {
                prefixes.Forget(gone);
            }
            byId = next;
            all = [.. next.Values.OrderBy(e => e.Id, StringComparer.Ordinal)];
            byModel = all.GroupBy(e => e.Model, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// An endpoint's name for clients and metrics: <c>node/model</c> (<c>static/model</c> for a configured one), and
    /// when that node serves the model at several URLs, the first 6 hex digits of the SHA-256 of the base URL
    /// (<c>static/llama/3f09a1</c>): unique and stable without telling clients where the model server listens.
    /// </summary>
    public static string PublicName(string? node, string model, Uri? baseUrl) =>
        baseUrl is null
            ? $"{node ?? "static"}/{model}"
            : $"{node ?? "static"}/{model}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(baseUrl.ToString())))[..6]}";

    private RoutableEndpoint Create(string id, ModelEndpoint model, NodeView? node) =>
        new(id, model.Model, ModelEndpoint.BaseUrl(model.Url), time, options.Value.Ejection)
        {
            Node = node?.Name,
            Provider = node?.Provider,
            Region = node?.Region,
            Location = node?.Location ?? node?.Region,
            GpuType = node?.Gpu.Gpus.Count > 0 ? node.Gpu.Gpus[0].Name : null,
            Capacity = options.Value.EndpointCapacity,
        };
}
