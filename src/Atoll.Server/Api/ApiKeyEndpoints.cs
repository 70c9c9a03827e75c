using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Atoll.Core.Security;
using Atoll.Server.Auth;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Atoll.Server.Api;

/// <summary>Gateway API keys for admins: create (the key is shown once), list, delete.</summary>
internal static partial class ApiKeyEndpoints
{
    public const string Prefix = "sk-atoll-";

    /// <summary>Body of POST /api/v1/api-keys.</summary>
    public sealed record CreateApiKeyRequest(string? Name, int? Rpm, int? Tpm, int? MaxConcurrent);

    /// <summary>A key as the API shows it; <c>Key</c> only in the answer that created it.</summary>
    public sealed record ApiKeyView(string Id, string Name, string Prefix, int? Rpm, int? Tpm, int? MaxConcurrent, DateTimeOffset CreatedAt, string? Key);

    public static void MapApiKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/api-keys").RequireAuthorization(AuthPolicies.Admin);

        group.MapPost("/", async (HttpRequest http, IStateStore store, TimeProvider time, CancellationToken ct) =>
        {
            var (request, error) = await JsonBody.ReadAsync<CreateApiKeyRequest>(http, ct).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }
            if (!IsValidName(request!.Name))
            {
                return Problems.BadRequest(
                    $"invalid name {(request.Name is { Length: <= 100 } n ? $"'{n}'" : "(over 100 characters)")}: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit (the name goes in URLs, as in `atoll keys delete NAME`)");
            }
            if (request.Rpm is < 1 || request.Tpm is < 1 || request.MaxConcurrent is < 1)
            {
                return Problems.BadRequest("rpm, tpm and maxConcurrent must be positive when given (omit them for no limit)");
            }
            var key = Tokens.New(Prefix);
            var record = new ApiKeyRecord(Tokens.NewId(), request.Name, Tokens.Hash(key), key[..(Prefix.Length + 4)],
                request.Rpm, request.Tpm, time.GetUtcNow(), request.MaxConcurrent);
            try
            {
                await store.ApiKeys.AddAsync(record, ct).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                return Problems.Conflict(e.Message);
            }
            return Results.Created($"/api/v1/api-keys/{record.Id}", ToView(record, key));
        });

        group.MapGet("/", async (IStateStore store, CancellationToken ct) =>
            Results.Ok(new { items = (await store.ApiKeys.ListAsync(ct).ConfigureAwait(false)).Select(k => ToView(k, null)) }));

        group.MapDelete("/{nameOrId}", async (string nameOrId, IStateStore store, CancellationToken ct) =>
            await store.ApiKeys.DeleteAsync(nameOrId, ct).ConfigureAwait(false)
                ? Results.NoContent()
                : Problems.NotFound($"API key '{nameOrId}' not found; list them with `atoll keys list`"));
    }

    private static ApiKeyView ToView(ApiKeyRecord r, string? key) =>
        new(r.Id, r.Name, r.Prefix, r.RequestsPerMinute, r.TokensPerMinute, r.MaxConcurrent, r.CreatedAt, key);

    private static bool IsValidName([NotNullWhen(true)] string? name) => name is { Length: > 0 and <= 100 } && NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}
