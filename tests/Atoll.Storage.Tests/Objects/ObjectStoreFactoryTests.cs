using Atoll.Storage.Objects;
using Atoll.Testing;

namespace Atoll.Storage.Tests.Objects;

public sealed class ObjectStoreFactoryTests : IDisposable
{
    private static readonly Uri BaseUrl = new("http://127.0.0.1:7070/");
    private static readonly Dictionary<string, string?> S3rverEnvironment = new()
    {
        ["AWS_ACCESS_KEY_ID"] = ObjectStores.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = ObjectStores.SecretKey,
    };

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "atoll-osf-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(dataDir))
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("file")]
    [InlineData(" FILE ")]
    public async Task The_default_is_the_filesystem_under_the_data_dir(string? url)
    {
        await using var store = ObjectStoreFactory.Open(url, dataDir, BaseUrl);

        var file = Assert.IsType<FileObjectStore>(store);
        Assert.Equal($"filesystem {Path.Combine(dataDir, "objects")}", file.Description);
    }

    [Fact]
    public async Task An_s3_url_names_bucket_prefix_endpoint_region_and_part_size()
    {
        await using var store = Open("s3://my-bucket/batch/data?endpoint=http://127.0.0.1:4569&region=eu-west-1&partSizeMiB=8", S3rverEnvironment);

        var s3 = Assert.IsType<S3ObjectStore>(store);
        Assert.Equal("s3://my-bucket/batch/data/ (endpoint http://127.0.0.1:4569/, region eu-west-1)", s3.Description);
        Assert.Equal(8L * 1024 * 1024, s3.PartSize);
        await using var defaults = Assert.IsType<S3ObjectStore>(Open("s3://my-bucket", S3rverEnvironment));
        Assert.Equal("s3://my-bucket/ (region us-east-1)", defaults.Description);
        Assert.Equal(16L * 1024 * 1024, defaults.PartSize);
    }

    [Theory]
    [InlineData("ftp://host/x", "unknown kind of object store")]
    [InlineData("sqlite", "unknown kind of object store")]
    [InlineData("s3://", "not a valid s3:// URL")]
    [InlineData("s3://Bad_Bucket/x", "is not a bucket name")]
    [InlineData("s3://ab/x", "is not a bucket name")]
    [InlineData("s3://bucket:9000/x", "no port")]
    [InlineData("s3://bucket/a/../b", "prefix")]
    [InlineData("s3://bucket/x?endpoint=localhost:4569", "endpoint 'localhost:4569' must be an http:// or https:// URL")]
    [InlineData("s3://bucket/x?region=", "region '' must be a region name")]
    [InlineData("s3://bucket/x?partSizeMiB=4", "partSizeMiB '4' must be a whole number from 5 to 5120")]
    [InlineData("s3://bucket/x?partSizeMiB=big", "partSizeMiB 'big'")]
    [InlineData("s3://bucket/x?acl=public", "unknown option 'acl'")]
    public void A_bad_url_is_refused_with_the_accepted_forms(string url, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => Open(url, S3rverEnvironment));

        Assert.Contains(why, e.Message);
        Assert.Contains(ObjectStoreFactory.AcceptedForms, e.Message);
    }

    [Theory]
    [InlineData("s3://AKIAEXAMPLE:hunter2secret@bucket/prefix")]
    [InlineData("s3://AKIAEXAMPLE:hunter2secret@bucket")]
    [InlineData("s3://hunter2secret@bucket/p?endpoint=http://127.0.0.1:4569")]
    [InlineData("s3://bucket/p?endpoint=http://AKIAEXAMPLE:hunter2secret@127.0.0.1:4569")]
    public void Credentials_in_the_url_are_refused_and_not_echoed(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => Open(url, S3rverEnvironment));

        Assert.DoesNotContain("hunter2secret", e.Message);
        Assert.Contains("AWS_ACCESS_KEY_ID", e.Message);
    }

    [Fact]
    public void Missing_credentials_fail_at_open_saying_where_to_put_them()
    {
        var environment = new Dictionary<string, string?> { ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(dataDir, "no-such-file") };

        var e = Assert.Throws<ArgumentException>(() => Open("s3://bucket/p", environment));

        Assert.Contains("no S3 credentials", e.Message);
        Assert.Contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", e.Message);
        Assert.Contains("AWS_PROFILE", e.Message);
        var half = Assert.Throws<ArgumentException>(() => Open("s3://bucket/p", new() { ["AWS_ACCESS_KEY_ID"] = "AKIA" }));
        Assert.Contains("must be set together", half.Message);
    }

    [Fact]
    public async Task Credentials_come_from_a_profile_of_the_shared_credentials_file()
    {
        Directory.CreateDirectory(dataDir);
        var file = Path.Combine(dataDir, "credentials");
        await File.WriteAllTextAsync(file, $"""
            [default]
            aws_access_key_id = WRONG
            aws_secret_access_key = WRONG

            [atoll]
            aws_access_key_id = {ObjectStores.AccessKey}
            aws_secret_access_key = {ObjectStores.SecretKey}
            """);
        var bucket = await ObjectStores.CreateBucketAsync();
        var environment = new Dictionary<string, string?> { ["AWS_SHARED_CREDENTIALS_FILE"] = file, ["AWS_PROFILE"] = "atoll" };

        await using var store = Open(ObjectStores.S3Url(bucket), environment);
        await store.PutAsync("k", new MemoryStream([1, 2, 3]), CancellationToken.None);

        Assert.Equal([1, 2, 3], await ObjectStoreTests.ReadAllAsync(store, "k", 0, null));
        // The default profile's wrong keys are refused by s3rver: the profile was really what signed.
        var environmentDefault = new Dictionary<string, string?> { ["AWS_SHARED_CREDENTIALS_FILE"] = file };
        await using var wrong = Open(ObjectStores.S3Url(bucket), environmentDefault);
        await Assert.ThrowsAnyAsync<Exception>(() => wrong.PutAsync("k2", new MemoryStream([1]), CancellationToken.None));
    }

    private IObjectStore Open(string url, Dictionary<string, string?> environment) =>
        ObjectStoreFactory.Open(url, dataDir, BaseUrl, null, name => environment.GetValueOrDefault(name));
}
