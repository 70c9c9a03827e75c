using System.Security.Claims;
using System.Text.Encodings.Web;
using Atoll.Core.Security;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Auth;

/// <summary>
/// Turns a bearer token into an admin or a node principal by looking up its SHA-256 in the store.
/// Failures answer problem+json saying what kind of token is needed.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IStateStore store)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // The OpenAI surface (/v1) and signed object URLs check their own credentials (cached API keys, URL
        // signatures); a store lookup here would only add a query to every gateway request.
        if (Request.Path.StartsWithSegments("/v1") || Request.Path.StartsWithSegments("/objects"))
        {
            return AuthenticateResult.NoResult();
        }
        var token = BearerTokens.From(Request);
        // Join tokens are checked by the registration endpoint itself; here they authenticate nobody.
        if (token is null || token.StartsWith(Tokens.JoinPrefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }
        var hash = Tokens.Hash(token);
        var ct = Context.RequestAborted;
        if (token.StartsWith(Tokens.NodePrefix, StringComparison.Ordinal))
        {
            var node = await store.FindNodeByCredentialAsync(hash, ct).ConfigureAwait(false);
            return node is null
                ? AuthenticateResult.Fail("node credential is not valid: the node was deleted or its credential revoked; re-join with a new join token")
                : Success(new Claim(ClaimTypes.Role, AuthPolicies.Node), new Claim(AuthPolicies.NodeNameClaim, node), new Claim(ClaimTypes.Name, node));
        }
        if (await store.IsAdminTokenAsync(hash, ct).ConfigureAwait(false))
        {
            return Success(new Claim(ClaimTypes.Role, AuthPolicies.Admin), new Claim(ClaimTypes.Name, "admin"));
        }
        return AuthenticateResult.Fail("token is not valid: use the admin token from <data>/admin.token (ATOLL_TOKEN)");
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        var detail = result.Failure?.Message
            ?? (BearerTokens.From(Request)?.StartsWith(Tokens.JoinPrefix, StringComparison.Ordinal) == true
                ? "a join token can only register a node (POST /api/v1/agent/register); use the admin token from <data>/admin.token"
                : null)
            ?? "missing 'Authorization: Bearer <token>' header: use the admin token from <data>/admin.token (ATOLL_TOKEN)";
        await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail)
            .ExecuteAsync(Context).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var detail = Context.User.IsInRole(AuthPolicies.Node)
            ? "a node credential cannot call this endpoint: it needs the admin token"
            : "this endpoint is for node agents only";
        return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail).ExecuteAsync(Context);
    }

    private AuthenticateResult Success(params Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name)), Scheme.Name));
}
