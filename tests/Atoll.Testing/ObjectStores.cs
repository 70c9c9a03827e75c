using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Atoll.Storage.Objects;
using Xunit;

namespace Atoll.Testing;

/// <summary>
/// The object stores every object behaviour is tested on: the filesystem, and S3 on the s3rver that
/// <c>scripts/test-services.sh</c> starts (its address in ATOLL_TEST_S3). Without ATOLL_TEST_S3 the S3 cases fail.
/// </summary>
public static class ObjectStores
{
    public const string File = "file";
    public const string S3 = "s3";

    /// <summary>s3rver's fixed credentials.</summary>
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    /// <summary>For <c>[MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]</c>.</summary>
    public static TheoryData<string> All => new() { File, S3 };

    /// <summary>The environment a process needs to reach the test S3 server: give it to child processes.</summary>
    public static IReadOnlyDictionary<string, string> S3Environment { get; } = new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
    };

    /// <summary>The test S3 server, from ATOLL_TEST_S3.</summary>
    public static Uri S3Endpoint
    {
        get
        {
            var value = Environment.GetEnvironmentVariable("ATOLL_TEST_S3");
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException("ATOLL_TEST_S3 is not set: run ./test.sh, or scripts/test-services.sh start DIR");
            }
            return new Uri(value.Trim());
        }
    }

    /// <summary>An <c>--objects</c> URL for a bucket on the test S3 server.</summary>
    public static string S3Url(string bucket, string prefix = "", int? partSizeMiB = null) =>
        $"s3://{bucket}/{prefix}?endpoint={Uri.EscapeDataString(S3Endpoint.ToString().TrimEnd('/'))}&region=us-east-1"
        + (partSizeMiB is { } n ? $"&partSizeMiB={n}" : "");

    /// <summary>A client of the test S3 server, to look behind a store's back.</summary>
    public static AmazonS3Client NewS3Client() => new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
    {
        ServiceURL = S3Endpoint.ToString(),
        AuthenticationRegion = "us-east-1",
        ForcePathStyle = true,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>A new empty bucket with a name no other test uses.</summary>
    public static async Task<string> CreateBucketAsync(CancellationToken ct = default)
    {
        var bucket = "atoll-t-" + Guid.NewGuid().ToString("N")[..16];
        using var client = NewS3Client();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket }, ct);
        return bucket;
    }

    /// <summary>
    /// Opens <paramref name="url"/> through <see cref="ObjectStoreFactory"/> as the server does. For S3, first puts
    /// s3rver's credentials into this process's AWS_* environment variables (a test process talks to no other S3).
    /// </summary>
    public static IObjectStore Open(string? url, string dataDir, Uri publicBaseUrl, TimeProvider? time = null)
    {
        if (url?.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) == true)
        {
            foreach (var (name, value) in S3Environment)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        }
        return ObjectStoreFactory.Open(url, dataDir, publicBaseUrl, time);
    }

    /// <summary>
    /// A store of kind <paramref name="kind"/> (<see cref="File"/> or <see cref="S3"/>, in a new bucket) for one
    /// test; its <c>--objects</c> URL is "file" or the s3:// URL.
    /// </summary>
    public static async Task<(IObjectStore Store, string Url)> OpenNewAsync(
        string kind, string dataDir, Uri publicBaseUrl, TimeProvider? time = null, int? partSizeMiB = null, CancellationToken ct = default)
    {
        var url = kind switch
        {
            File => "file",
            S3 => S3Url(await CreateBucketAsync(ct), "atoll", partSizeMiB),
            _ => throw new ArgumentException($"unknown object store kind '{kind}': expected {File} or {S3}", nameof(kind)),
        };
        return (Open(url, dataDir, publicBaseUrl, time), url);
    }
}
