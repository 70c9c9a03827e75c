using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Security;
using Atoll.Server.Auth;
using Atoll.Server.Observability;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Api;

/// <summary>
/// What agents call: register (with a join token, once) and heartbeat (with the node credential it got back).
/// A node credential may only report for its own node.
/// </summary>
internal static class AgentEndpoints
{
    public static void MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/agent");
        group.MapPost("/register", RegisterAsync).AllowAnonymous();
        group.MapPost("/heartbeat", HeartbeatAsync).RequireAuthorization(AuthPolicies.Node);
    }

    private static async Task<IResult> RegisterAsync(
        HttpRequest http, IStateStore store, TimeProvider time, IOptions<ServerOptions> options,
        ServerMetrics metrics, ILoggerFactory logs, CancellationToken ct)
    {
        var joinToken = BearerTokens.From(http);
        if (joinToken is null)
        {
            return Count(metrics, "missing_token",
                Problems.Unauthorized("missing join token: send 'Authorization: Bearer <join token>' (create one with `atoll tokens create`)"));
        }
        var (request, error) = await JsonBody.ReadAsync<RegisterNodeRequest>(http, ct).ConfigureAwait(false);
        if (error is not null)
        {
            return Count(metrics, "invalid", error);
        }
        if (RegistrationValidator.Validate(request!) is { } invalid)
        {
            return Count(metrics, "invalid", Problems.BadRequest(invalid));
        }
        var now = time.GetUtcNow();
        var gpu = request!.Gpu ?? GpuReport.None;
        var node = new NodeView(
            request.Name, request.Provider, request.Region, request.Location, request.InstanceType, request.CapacityType,
            Pool: null, request.Labels ?? new Dictionary<string, string>(), gpu, request.Models ?? [],
            NodeConditions.OnHeartbeat([], gpu, now), now, now, request.AgentVersion);
        var credential = Tokens.New(Tokens.NodePrefix);
        var timeout = options.Value.EffectiveNodeTimeout;
        var keyHash = request.RegistrationKey is { } key ? Tokens.Hash(key) : null;
        var result = await store.RegisterNodeAsync(Tokens.Hash(joinToken), node, Tokens.Hash(credential), now, now - timeout, keyHash, ct)
            .ConfigureAwait(false);
        var log = logs.CreateLogger("Atoll.Server.Agents");
        switch (result.Outcome)
        {
            case RegistrationOutcome.Registered:
                log.LogInformation("Node {Node} registered (provider {Provider}, region {Region}, {Gpus} GPU(s))",
                    node.Name, node.Provider, node.Region, gpu.Gpus.Count);
                return Accepted("registered");
            case RegistrationOutcome.Resumed:
                log.LogWarning("Node {Node} registered again with its registration key (the answer to its registration was lost); its earlier credential is revoked",
                    node.Name);
                return Accepted("resumed");
            case RegistrationOutcome.ExpiredToken:
                return Count(metrics, "expired_token", Problems.Unauthorized("join token has expired: create a new one with `atoll tokens create`"));
            case RegistrationOutcome.UsedUpToken:
                return Count(metrics, "used_token", Problems.Unauthorized("join token has no uses left: create a new one with `atoll tokens create --uses N`"));
            case RegistrationOutcome.NameInUse:
                log.LogWarning("Refused registration of {Node}: a live node already has that name", node.Name);
                return Count(metrics, "name_in_use", Problems.Conflict(
                    $"node '{node.Name}' is already registered and alive: choose another --name, or `atoll nodes delete {node.Name}` first"));
            default:
                return Count(metrics, "unknown_token", Problems.Unauthorized("join token is not valid: check the token, or create one with `atoll tokens create`"));
        }

        IResult Accepted(string label)
        {
            metrics.NodeGpus.WithLabels(node.Name, node.Provider, node.Region).Set(gpu.Gpus.Count);
            return Count(metrics, label, Results.Ok(new RegisterNodeResponse(node.Name, credential, (int)options.Value.HeartbeatInterval.TotalSeconds)));
        }
    }

    private static async Task<IResult> HeartbeatAsync(
        HttpContext http, IStateStore store, TimeProvider time, IOptions<ServerOptions> options, ServerMetrics metrics, CancellationToken ct)
    {
        var own = http.User.FindFirst(AuthPolicies.NodeNameClaim)!.Value;
        var (request, error) = await JsonBody.ReadAsync<HeartbeatRequest>(http.Request, ct).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }
        if (request!.Name != own)
        {
            return Problems.Forbidden($"this credential belongs to node '{own}'; it cannot report for node '{request.Name}'");
        }
        if (RegistrationValidator.ValidateModels(request.Models) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }
        var node = await store.GetNodeAsync(own, ct).ConfigureAwait(false);
        if (node is null)
        {
            return Problems.Unauthorized($"node '{own}' was deleted; its credential is revoked");
        }
        var now = time.GetUtcNow();
        var gpu = request.Gpu ?? GpuReport.None;
        var conditions = NodeConditions.OnHeartbeat(node.Conditions, gpu, now);
        if (!await store.RecordHeartbeatAsync(own, gpu, request.Models ?? [], conditions, now, ct).ConfigureAwait(false))
        {
            return Problems.Unauthorized($"node '{own}' was deleted; its credential is revoked");
        }
        metrics.Heartbeats.Inc();
        metrics.NodeGpus.WithLabels(node.Name, node.Provider, node.Region).Set(gpu.Gpus.Count);
        return Results.Ok(new HeartbeatResponse((int)options.Value.HeartbeatInterval.TotalSeconds));
    }

    private static IResult Count(ServerMetrics metrics, string result, IResult response)
    {
        metrics.Registrations.WithLabels(result).Inc();
        return response;
    }
}
