namespace Atoll.Core.Resources;

/// <summary>
/// Where the server finds a secret: an environment variable of the server process or a file on the server.
/// The secret itself is never stored or returned; exactly one of the two is set.
/// </summary>
public sealed record SecretRef(string? Env = null, string? File = null)
{
    public override string ToString() => Env is not null ? "env:" + Env : "file:" + File;
}
