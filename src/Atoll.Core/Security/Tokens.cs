using System.Security.Cryptography;
using System.Text;

namespace Atoll.Core.Security;

/// <summary>
/// Bearer secrets: 256 random bits with a readable prefix naming their kind. Only the SHA-256 of a
/// token is ever stored; with this much entropy a slow hash would add nothing but latency.
/// </summary>
public static class Tokens
{
    public const string AdminPrefix = "atoll_adm_";
    public const string JoinPrefix = "atoll_join_";
    public const string NodePrefix = "atoll_node_";

    /// <summary>A new random token such as <c>atoll_join_3q2...</c>.</summary>
    public static string New(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>A short random id for rows that refer to a token without revealing it.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Lower-case hex SHA-256 of the token: what the store keeps.</summary>
    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
