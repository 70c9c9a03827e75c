using System.Data.Common;
using System.Text.Json;
using Atoll.Core.Contracts;

namespace Atoll.Storage.State;

/// <summary>Maps <see cref="NodeView"/> to and from the nodes table; the nested parts are JSON text.</summary>
internal static class NodeRows
{
    public const string Columns =
        "name, provider, region, location, instance_type, capacity_type, pool, labels_json, gpu_json, models_json, " +
        "conditions_json, registered_at, last_heartbeat_at, agent_version, claim";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public static (string Name, object? Value)[] Parameters(NodeView node) =>
    [
        ("@name", node.Name),
        ("@provider", node.Provider),
        ("@region", node.Region),
        ("@location", node.Location),
        ("@instance_type", node.InstanceType),
        ("@capacity_type", node.CapacityType),
        ("@pool", node.Pool),
        ("@labels_json", ToJson(node.Labels)),
        ("@gpu_json", ToJson(node.Gpu)),
        ("@models_json", ToJson(node.Models)),
        ("@conditions_json", ToJson(node.Conditions)),
        ("@registered_at", DbCommands.ToUnixMs(node.RegisteredAt)),
        ("@last_heartbeat_at", DbCommands.ToUnixMs(node.LastHeartbeatAt)),
        ("@agent_version", node.AgentVersion),
        ("@claim", node.Claim),
    ];

    /// <summary>Reads the current row, whose columns are <see cref="Columns"/> in that order.</summary>
    public static NodeView Read(DbDataReader reader) => new(
        Name: reader.GetString(0),
        Provider: reader.GetString(1),
        Region: reader.GetString(2),
        Location: DbCommands.NullableString(reader, 3),
        InstanceType: DbCommands.NullableString(reader, 4),
        CapacityType: reader.GetString(5),
        Pool: DbCommands.NullableString(reader, 6),
        Labels: FromJson<Dictionary<string, string>>(reader, 7),
        Gpu: FromJson<GpuReport>(reader, 8),
        Models: FromJson<List<ModelEndpoint>>(reader, 9),
        Conditions: FromJson<List<NodeCondition>>(reader, 10),
        RegisteredAt: DbCommands.FromUnixMs(reader.GetInt64(11)),
        LastHeartbeatAt: DbCommands.FromUnixMs(reader.GetInt64(12)),
        AgentVersion: DbCommands.NullableString(reader, 13),
        Claim: DbCommands.NullableString(reader, 14));

    private static T FromJson<T>(DbDataReader reader, int ordinal)
    {
        var text = reader.GetString(ordinal);
        return JsonSerializer.Deserialize<T>(text, Json)
            ?? throw new InvalidDataException($"column {reader.GetName(ordinal)} of node '{reader.GetString(0)}' holds JSON null");
    }
}
