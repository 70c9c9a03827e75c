using Atoll.Core;
using Atoll.Core.Contracts;
using Atoll.Core.Security;
using Atoll.Server.Auth;
using Atoll.Server.Observability;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Api;

/// <summary>One-time join tokens: random, stored hashed, expiring, counted down per registration.</summary>
internal static class JoinTokenEndpoints
{
    public const int MaxUses = 10_000;
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(30);

    public static void MapJoinTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/join-tokens").RequireAuthorization(AuthPolicies.Admin);

        group.MapPost("/", async (HttpRequest http, IStateStore store, TimeProvider time, ServerMetrics metrics, CancellationToken ct) =>
        {
            var (request, error) = await JsonBody.ReadAsync<CreateJoinTokenRequest>(http, ct).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            var uses = request!.Uses ?? 1;
            if (uses is < 1 or > MaxUses)
            {
                return Problems.BadRequest($"uses {uses} is out of range: use 1 to {MaxUses}");
            }
            var ttl = DefaultTtl;
            if (request.Ttl is not null && (!Durations.TryParse(request.Ttl, out ttl) || ttl > MaxTtl))
            {
                return Problems.BadRequest($"ttl '{request.Ttl}' is invalid: use a duration such as 30m, 1h or 7d, at most {Durations.Format(MaxTtl)}");
            }
            var now = time.GetUtcNow();
            var token = Tokens.New(Tokens.JoinPrefix);
            var record = new JoinTokenRecord(Tokens.NewId(), Tokens.Hash(token), uses, now + ttl,
                string.IsNullOrWhiteSpace(request.Pool) ? null : request.Pool, request.Description, now);
            await store.AddJoinTokenAsync(record, ct).ConfigureAwait(false);
            metrics.JoinTokensCreated.Inc();
            return Results.Created($"/api/v1/join-tokens/{record.Id}", ToView(record, token));
        });

        group.MapGet("/", async (IStateStore store, CancellationToken ct) =>
        {
            var tokens = await store.ListJoinTokensAsync(ct).ConfigureAwait(false);
            return Results.Ok(new { items = tokens.Select(t => ToView(t, null)) });
        });

        group.MapDelete("/{id}", async (string id, IStateStore store, CancellationToken ct) =>
            await store.DeleteJoinTokenAsync(id, ct).ConfigureAwait(false)
                ? Results.NoContent()
                : Problems.NotFound($"join token '{id}' not found"));
    }

    private static JoinTokenView ToView(JoinTokenRecord r, string? plaintext) =>
        new(r.Id, plaintext, r.UsesLeft, r.ExpiresAt, r.Pool, r.Description, r.CreatedAt);
}
