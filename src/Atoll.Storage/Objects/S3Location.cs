namespace Atoll.Storage.Objects;

/// <summary>What an <c>s3://bucket/prefix?endpoint=URL&amp;region=R&amp;partSizeMiB=N</c> URL names.</summary>
internal sealed record S3Location(string Bucket, string Prefix, Uri? Endpoint, string Region, long PartSize)
{
    public const string DefaultRegion = "us-east-1";
    public const int DefaultPartSizeMiB = 16;

    // S3's own limits on a part of a multipart upload.
    public const int MinPartSizeMiB = 5;
    public const int MaxPartSizeMiB = 5 * 1024;

    private const string NoCredentialsInUrl =
        "credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if " +
        "needed) in the environment, or use a profile of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)";

    /// <summary>For logs: the URL without anything secret (there is nothing secret in it).</summary>
    public override string ToString() =>
        $"s3://{Bucket}/{Prefix}" + (Endpoint is null ? $" (region {Region})" : $" (endpoint {Endpoint}, region {Region})");

    /// <summary>Parses an s3:// URL; <paramref name="invalid"/> makes the exception for a reason.</summary>
    public static S3Location Parse(string url, Func<string, ArgumentException> invalid)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "s3" || uri.Host.Length == 0)
        {
            throw invalid("not a valid s3:// URL");
        }
        if (uri.UserInfo.Length > 0)
        {
            throw invalid(NoCredentialsInUrl);
        }
        var bucket = uri.Host;
        if (!IsBucketName(bucket) || !uri.IsDefaultPort)
        {
            throw invalid($"'{bucket}' is not a bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit; no port)");
        }
        // From the text as written: Uri would quietly resolve "a/../b" to "b".
        var afterScheme = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var slash = afterScheme.IndexOfAny(['/', '?', '#']);
        var rawPath = slash < 0 || afterScheme[slash] != '/' ? "" : afterScheme[slash..].Split('?', '#')[0];
        var prefix = Uri.UnescapeDataString(rawPath).Trim('/');
        if (prefix.Length > 0)
        {
            if (!ObjectKeys.IsValid(prefix))
            {
                throw invalid($"the prefix '{prefix}' must be a path of A-Z a-z 0-9 . _ / - without empty, '.' or '..' segments");
            }
            prefix += "/";
        }

        Uri? endpoint = null;
        var region = DefaultRegion;
        var partSizeMiB = DefaultPartSizeMiB;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            switch (name)
            {
                case "endpoint":
                    if (Uri.TryCreate(value, UriKind.Absolute, out var withUser) && withUser.UserInfo.Length > 0)
                    {
                        throw invalid(NoCredentialsInUrl);
                    }
                    if (!Uri.TryCreate(value, UriKind.Absolute, out endpoint)
                        || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
                    {
                        throw invalid($"endpoint '{value}' must be an http:// or https:// URL such as http://127.0.0.1:4569");
                    }
                    break;
                case "region":
                    if (value.Length == 0 || !value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                    {
                        throw invalid($"region '{value}' must be a region name such as us-east-1");
                    }
                    region = value;
                    break;
                case "partSizeMiB":
                    if (!int.TryParse(value, out partSizeMiB) || partSizeMiB is < MinPartSizeMiB or > MaxPartSizeMiB)
                    {
                        throw invalid($"partSizeMiB '{value}' must be a whole number from {MinPartSizeMiB} to {MaxPartSizeMiB}");
                    }
                    break;
                default:
                    throw invalid($"unknown option '{name}' (accepted: endpoint, region, partSizeMiB)");
            }
        }
        return new S3Location(bucket, prefix, endpoint, region, partSizeMiB * 1024L * 1024L);
    }

    private static bool IsBucketName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
        && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1]);
}
