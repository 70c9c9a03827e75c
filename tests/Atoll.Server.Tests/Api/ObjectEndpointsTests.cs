using System.Net;
using System.Net.Http.Headers;
using Atoll.Server.Api;
using Atoll.Storage.Objects;
using Atoll.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Server.Tests.Api;

/// <summary>
/// Signed object URLs used by a plain HttpClient over real HTTP: the filesystem store's through
/// <see cref="ObjectEndpoints"/> in a Kestrel app on 127.0.0.1:0, S3's straight against s3rver.
/// </summary>
public sealed class ObjectEndpointsTests : IAsyncLifetime, IDisposable
{
    private const long BodyLimit = 1024 * 1024;
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "atoll-objep-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private readonly HttpClient http = new();
    private WebApplication? app;
    private IObjectStore? store;

    public Task InitializeAsync() => Task.CompletedTask;

    public void Dispose() => http.Dispose();

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
        if (store is not null)
        {
            await store.DisposeAsync();
        }
        if (Directory.Exists(dataDir))
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Signed_put_then_signed_get_round_trips_over_http(string kind)
    {
        var objects = await StartAsync(kind);
        // Larger than the server's request body limit: an object upload is not a JSON API request.
        var body = Enumerable.Range(0, 3 * (int)BodyLimit).Select(i => (byte)(i * 7)).ToArray();

        using (var put = await http.PutAsync(objects.SignedPutUrl("batches/b1/out.jsonl", Ttl), new ByteArrayContent(body)))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        Assert.Equal(body.Length, (await objects.StatAsync("batches/b1/out.jsonl", default))!.Size);
        var getUrl = objects.SignedGetUrl("batches/b1/out.jsonl", Ttl);
        Assert.Equal(body, await http.GetByteArrayAsync(getUrl));
        using var ranged = await GetAsync(getUrl, new RangeHeaderValue(1000, 1999));
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal(body[1000..2000], await ranged.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Range_requests_get_206_with_content_range_or_416_outside_the_object()
    {
        var objects = await StartAsync(ObjectStores.File);
        var body = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await objects.PutAsync("r", new MemoryStream(body), default);
        var url = objects.SignedGetUrl("r", Ttl);

        using (var whole = await GetAsync(url, null))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal("bytes", whole.Headers.AcceptRanges.Single());
            Assert.Equal(1000, whole.Content.Headers.ContentLength);
        }
        using (var middle = await GetAsync(url, new RangeHeaderValue(10, 19)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, middle.StatusCode);
            Assert.Equal("bytes 10-19/1000", middle.Content.Headers.ContentRange!.ToString());
            Assert.Equal(body[10..20], await middle.Content.ReadAsByteArrayAsync());
        }
        using (var toEnd = await GetAsync(url, new RangeHeaderValue(990, null)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, toEnd.StatusCode);
            Assert.Equal("bytes 990-999/1000", toEnd.Content.Headers.ContentRange!.ToString());
            Assert.Equal(body[990..], await toEnd.Content.ReadAsByteArrayAsync());
        }
        using (var pastEnd = await GetAsync(url, new RangeHeaderValue(995, 5000)))
        {
            Assert.Equal("bytes 995-999/1000", pastEnd.Content.Headers.ContentRange!.ToString());
        }
        using (var suffix = await GetAsync(url, new RangeHeaderValue(null, 3)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, suffix.StatusCode);
            Assert.Equal(body[997..], await suffix.Content.ReadAsByteArrayAsync());
        }
        using (var outside = await GetAsync(url, new RangeHeaderValue(1000, null)))
        {
            Assert.Contains("1000 bytes", await Problem.DetailAsync(outside, 416));
            Assert.Equal("bytes */1000", outside.Content.Headers.ContentRange!.ToString());
        }
    }

    [Fact]
    public async Task Expired_tampered_wrong_method_and_unsigned_urls_are_forbidden()
    {
        var objects = await StartAsync(ObjectStores.File);
        await objects.PutAsync("k/x", new MemoryStream([1, 2, 3]), default);
        var getUrl = objects.SignedGetUrl("k/x", TimeSpan.FromMinutes(1));
        var putUrl = objects.SignedPutUrl("k/x", TimeSpan.FromMinutes(1));

        using (var tampered = await http.GetAsync(WithSig(getUrl, s => (s[0] == 'A' ? "B" : "A") + s[1..])))
        {
            Assert.StartsWith("invalid signature", await Problem.DetailAsync(tampered, 403));
        }
        using (var otherKey = await http.GetAsync(getUrl.ToString().Replace("/k/x?", "/k/y?", StringComparison.Ordinal)))
        {
            Assert.StartsWith("invalid signature", await Problem.DetailAsync(otherKey, 403));
        }
        using (var wrongMethod = await http.PutAsync(getUrl, new ByteArrayContent([9])))
        {
            Assert.StartsWith("invalid signature", await Problem.DetailAsync(wrongMethod, 403));
        }
        using (var getWithPutUrl = await http.GetAsync(putUrl))
        {
            Assert.StartsWith("invalid signature", await Problem.DetailAsync(getWithPutUrl, 403));
        }
        using (var unsigned = await http.GetAsync(getUrl.GetLeftPart(UriPartial.Path)))
        {
            Assert.StartsWith("invalid signature", await Problem.DetailAsync(unsigned, 403));
        }
        Assert.Equal([1, 2, 3], await http.GetByteArrayAsync(getUrl));

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(2));
        using (var expired = await http.GetAsync(getUrl))
        {
            Assert.StartsWith("signed URL expired", await Problem.DetailAsync(expired, 403));
        }
        using (var expiredPut = await http.PutAsync(putUrl, new ByteArrayContent([9])))
        {
            Assert.StartsWith("signed URL expired", await Problem.DetailAsync(expiredPut, 403));
        }
        Assert.Equal(3, (await objects.StatAsync("k/x", default))!.Size);
    }

    [Fact]
    public async Task A_signed_get_of_a_missing_object_is_404()
    {
        var objects = await StartAsync(ObjectStores.File);

        using var missing = await http.GetAsync(objects.SignedGetUrl("never/written", Ttl));

        Assert.Contains("does not exist", await Problem.DetailAsync(missing, 404));
    }

    [Fact]
    public async Task With_an_s3_store_the_route_says_objects_are_served_by_s3()
    {
        var objects = await StartAsync(ObjectStores.S3);
        var address = app!.Urls.Single();

        using var response = await http.GetAsync($"{address}/objects/k?expires=9999999999&sig=x");

        Assert.Contains("objects are served by S3", await Problem.DetailAsync(response, 404));
        Assert.StartsWith(ObjectStores.S3Endpoint.ToString(), objects.SignedGetUrl("k", Ttl).ToString());
    }

    private async Task<IObjectStore> StartAsync(string kind)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = BodyLimit);
        builder.Logging.ClearProviders();
        // The store's URLs need the port, known only once Kestrel listens: resolved at the first request.
        builder.Services.AddSingleton(_ => store!);
        builder.Services.AddProblemDetails();
        app = builder.Build();
        app.MapObjectEndpoints();
        await app.StartAsync();
        (store, _) = await ObjectStores.OpenNewAsync(kind, dataDir, new Uri(app.Urls.Single() + "/"), time);
        return store;
    }

    private async Task<HttpResponseMessage> GetAsync(Uri url, RangeHeaderValue? range)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = range;
        return await http.SendAsync(request);
    }

    private static string WithSig(Uri url, Func<string, string> change)
    {
        var text = url.ToString();
        var at = text.IndexOf("&sig=", StringComparison.Ordinal) + 5;
        return text[..at] + change(text[at..]);
    }
}
