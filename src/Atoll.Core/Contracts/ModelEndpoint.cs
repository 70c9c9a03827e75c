namespace Atoll.Core.Contracts;

/// <summary>A model served by a node, reachable at <see cref="Url"/> (an OpenAI-compatible base URL).</summary>
public sealed record ModelEndpoint(string Model, string Url)
{
    /// <summary>
    /// The server's base URL as the gateway uses it: "http://h:8000/v1/" and "http://h:8000" both become
    /// "http://h:8000/", to which routes (<c>v1/chat/completions</c>) are appended.
    /// </summary>
    public static Uri BaseUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = url.TrimEnd('/');
        if (text.EndsWith("/v1", StringComparison.Ordinal))
        {
            text = text[..^3];
        }
        return new Uri(text + "/");
    }
}
