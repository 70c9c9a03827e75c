using System.CommandLine;

namespace Atoll.Cli.Client;

/// <summary>
/// Where client commands send requests and with which token: <c>--server</c>/<c>--token</c>, else
/// <c>ATOLL_SERVER</c>/<c>ATOLL_TOKEN</c>, else the local default server and <c>~/.atoll/admin.token</c>.
/// </summary>
internal static class ClientSettings
{
    public const string DefaultServer = "http://127.0.0.1:7070";

    public static readonly Option<string?> Server = new("--server")
    {
        Description = "Atoll server URL [env: ATOLL_SERVER; default: http://127.0.0.1:7070]",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "admin token [env: ATOLL_TOKEN; default: contents of ~/.atoll/admin.token]",
        Recursive = true,
    };

    public static AtollApiClient CreateClient(ParseResult result)
    {
        var server = result.GetValue(Server) ?? Environment.GetEnvironmentVariable("ATOLL_SERVER") ?? DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            throw new CliException($"invalid server URL '{server}': expected e.g. http://127.0.0.1:7070 (--server or ATOLL_SERVER)");
        }
        var token = result.GetValue(Token) ?? Environment.GetEnvironmentVariable("ATOLL_TOKEN") ?? ReadDefaultToken();
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new CliException("no admin token: pass --token, set ATOLL_TOKEN (e.g. `. DATA/env` after `atoll up`), or run on the server host where ~/.atoll/admin.token exists");
        }
        return new AtollApiClient(uri, token.Trim());
    }

    private static string? ReadDefaultToken()
    {
        var path = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".atoll", "admin.token");
        return File.Exists(path) ? File.ReadAllText(path) : null;
    }
}
