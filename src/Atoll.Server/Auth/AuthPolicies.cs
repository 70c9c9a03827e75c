namespace Atoll.Server.Auth;

/// <summary>Who may call what: admins run the fleet; a node credential may act only for its own node.</summary>
internal static class AuthPolicies
{
    public const string Scheme = "AtollBearer";
    public const string Admin = "admin";
    public const string Node = "node";
    public const string NodeNameClaim = "atoll/node";
}
