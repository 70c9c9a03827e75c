using Atoll.Core.Contracts;
using Atoll.Core.Security;
using Atoll.Storage.State;

namespace Atoll.Storage.Tests.State;

/// <summary>Nodes, tokens and times the store tests share.</summary>
internal static class StoreSamples
{
    public static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>How long a node stays alive after its last heartbeat, as the server would pass it.</summary>
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(30);

    public static NodeView Node(string name, DateTimeOffset at, string provider = "lambda") => new(
        Name: name,
        Provider: provider,
        Region: "us-east-1",
        Location: "us-east-1a",
        InstanceType: "gpu_1x_a10",
        CapacityType: CapacityTypes.OnDemand,
        Pool: "ignored-the-token-decides",
        Labels: new Dictionary<string, string> { ["team"] = "ml", ["tier"] = "gold" },
        Gpu: GpuReport.None,
        Models: [],
        Conditions: [],
        RegisteredAt: at,
        LastHeartbeatAt: at,
        AgentVersion: "0.1.0");

    public static JoinTokenRecord JoinToken(string secret, int uses, DateTimeOffset expiresAt, string? pool = "default") =>
        new(Tokens.NewId(), Tokens.Hash(secret), uses, expiresAt, pool, "for tests", Start);

    /// <summary>Adds a join token valid for an hour and returns its plaintext.</summary>
    public static async Task<string> AddJoinTokenAsync(IStateStore store, int uses, string? pool = "default")
    {
        var secret = Tokens.New(Tokens.JoinPrefix);
        await store.AddJoinTokenAsync(JoinToken(secret, uses, Start.AddHours(1), pool), CancellationToken.None);
        return secret;
    }

    /// <summary>Registers <paramref name="name"/> as the server would: hashes in, nodes alive within <see cref="NodeTimeout"/>.</summary>
    public static Task<RegistrationResult> RegisterAsync(
        IStateStore store, string joinToken, string name, string credential, DateTimeOffset now, string provider = "lambda",
        string? registrationKey = null) =>
        store.RegisterNodeAsync(
            Tokens.Hash(joinToken), Node(name, now, provider), Tokens.Hash(credential), now, now - NodeTimeout,
            registrationKey is null ? null : Tokens.Hash(registrationKey), CancellationToken.None);

    public static async Task<int> UsesLeftAsync(IStateStore store, string joinToken)
    {
        var tokens = await store.ListJoinTokensAsync(CancellationToken.None);
        return Assert.Single(tokens, t => t.TokenHash == Tokens.Hash(joinToken)).UsesLeft;
    }
}
