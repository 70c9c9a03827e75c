using System.Text.RegularExpressions;

namespace Atoll.Storage.Objects;

/// <summary>Opens the object store named by an <c>--objects</c> URL.</summary>
public static partial class ObjectStoreFactory
{
    /// <summary>The accepted forms of an object store URL, for error messages and help text.</summary>
    public const string AcceptedForms =
        "'file' (the default: <--data>/objects) or 's3://bucket[/prefix][?endpoint=http://host:port&region=us-east-1&partSizeMiB=16]' " +
        "with credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN] or the shared credentials file " +
        "(AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)";

    /// <summary>
    /// Null, empty or "file": <see cref="FileObjectStore"/> under <c><paramref name="dataDir"/>/objects</c>, its signed
    /// URLs under <paramref name="publicBaseUrl"/>. <c>s3://bucket/prefix?endpoint=URL&amp;region=R&amp;partSizeMiB=N</c>:
    /// <see cref="S3ObjectStore"/>, credentials from the environment only. Nothing is contacted until first use.
    /// <paramref name="time"/> dates the filesystem store's signed URLs; S3 presigns on the real clock, as S3 checks them.
    /// </summary>
    /// <exception cref="ArgumentException">The URL is none of the accepted forms, or S3 credentials are missing.</exception>
    public static IObjectStore Open(string? url, string dataDir, Uri publicBaseUrl, TimeProvider? time = null) =>
        Open(url, dataDir, publicBaseUrl, time, Environment.GetEnvironmentVariable);

    internal static IObjectStore Open(string? url, string dataDir, Uri publicBaseUrl, TimeProvider? time, Func<string, string?> environment)
    {
        url = url?.Trim();
        if (string.IsNullOrEmpty(url) || url.Equals("file", StringComparison.OrdinalIgnoreCase))
        {
            return new FileObjectStore(dataDir, publicBaseUrl, time);
        }
        if (url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var location = S3Location.Parse(url, why => Invalid(url, why));
            return new S3ObjectStore(location, S3Credentials.Resolve(environment, location.ToString()));
        }
        throw Invalid(url, "unknown kind of object store");
    }

    private static ArgumentException Invalid(string url, string why) =>
        new($"invalid --objects '{Redact(url)}': {why}; accepted: {AcceptedForms}");

    // A URL that wrongly carries credentials (in its own or the endpoint's user info) must not show them in the error.
    private static string Redact(string url) =>
        url.Contains("%40", StringComparison.OrdinalIgnoreCase)
            ? "(not shown: it may hold credentials)"
            : UserInfo().Replace(url, "//***@");

    [GeneratedRegex("//[^/?&#]*@")]
    private static partial Regex UserInfo();
}
