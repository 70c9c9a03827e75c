using System.Web;
using Atoll.Storage.Objects;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Storage.Tests.Objects;

public sealed class FileObjectStoreTests : IDisposable
{
    public static readonly string[] BadKeys =
    [
        "", "/etc/passwd", "../escape", "a/../../escape", "a/..", "./a", "a/./b", "a//b", "a/", "a b", "a\\b", "ключ",
        "a?b", "a%2Fb", "a:b", new string('k', 1025),
    ];

    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly Uri BaseUrl = new("http://atoll.example:7070/");

    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "atoll-fso-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        if (Directory.Exists(dataDir))
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Objects_are_files_under_the_data_dir()
    {
        var store = new FileObjectStore(dataDir, BaseUrl, time);

        await store.PutAsync("batches/b1/chunk-0001.jsonl", new MemoryStream("x"u8.ToArray()), None);

        Assert.Equal("x", await File.ReadAllTextAsync(Path.Combine(dataDir, "objects", "batches", "b1", "chunk-0001.jsonl")));
        Assert.Equal(Path.Combine(dataDir, "objects", "batches/b1/chunk-0001.jsonl"), store.PathOf("batches/b1/chunk-0001.jsonl"));
        // Nothing is left behind in the temporary folder.
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(dataDir, "objects.tmp")));
    }

    [Fact]
    public void Keys_outside_the_rule_are_refused_and_good_ones_accepted()
    {
        var store = new FileObjectStore(dataDir, BaseUrl, time);

        foreach (var key in BadKeys)
        {
            Assert.Throws<ArgumentException>(() => store.PathOf(key));
        }
        foreach (var key in new[] { "a", "a/b/c.jsonl", "A-Z_0.9", "files/file-abc123/content", "..a", "a..b" })
        {
            Assert.StartsWith(Path.Combine(dataDir, "objects") + "/", store.PathOf(key));
        }
    }

    [Fact]
    public async Task A_half_written_object_never_appears_under_its_name()
    {
        var store = new FileObjectStore(dataDir, BaseUrl, time);
        var gate = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var put = store.PutAsync("slow", new PausingStream(gate, release.Task), None);
        await gate.Task;

        // Half the bytes are on disk, but not under the object's name.
        Assert.Null(await store.StatAsync("slow", None));
        Assert.False(File.Exists(store.PathOf("slow")));
        release.SetResult();
        await put;
        Assert.Equal(2 * PausingStream.Half, (await store.StatAsync("slow", None))!.Size);
    }

    [Fact]
    public void The_signing_key_is_made_once_private_and_kept_across_reopening()
    {
        var first = new FileObjectStore(dataDir, BaseUrl, time);
        var url = first.SignedGetUrl("k/x", TimeSpan.FromHours(1));
        var keyFile = Path.Combine(dataDir, "object-signing.key");

        Assert.Equal(32, new FileInfo(keyFile).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        var reopened = new FileObjectStore(dataDir, BaseUrl, time);
        var (expires, sig) = Query(url);
        Assert.True(reopened.VerifySignature("GET", "k/x", expires, sig));
        Assert.Equal(url, reopened.SignedGetUrl("k/x", TimeSpan.FromHours(1)));

        // Another data dir has another key.
        var other = new FileObjectStore(dataDir + "-other", BaseUrl, time);
        try
        {
            Assert.False(other.VerifySignature("GET", "k/x", expires, sig));
        }
        finally
        {
            Directory.Delete(dataDir + "-other", recursive: true);
        }
    }

    [Fact]
    public void Signed_urls_point_at_the_server_and_carry_expiry_and_signature()
    {
        var store = new FileObjectStore(dataDir, new Uri("https://atoll.example/prefix/"), time);

        var url = store.SignedPutUrl("a/b.jsonl", TimeSpan.FromMinutes(10));

        Assert.Equal("https://atoll.example/prefix/objects/a/b.jsonl", url.GetLeftPart(UriPartial.Path));
        var (expires, sig) = Query(url);
        Assert.Equal(time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds(), expires);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", sig);
    }

    [Fact]
    public void A_signature_holds_for_its_method_key_and_expiry_only_until_it_expires()
    {
        var store = new FileObjectStore(dataDir, BaseUrl, time);
        var (expires, sig) = Query(store.SignedGetUrl("k", TimeSpan.FromMinutes(5)));
        var (putExpires, putSig) = Query(store.SignedPutUrl("k", TimeSpan.FromMinutes(5)));

        Assert.Equal(SignedUrlStatus.Valid, store.CheckSignedUrl("GET", "k", expires, sig));
        Assert.Equal(SignedUrlStatus.Valid, store.CheckSignedUrl("PUT", "k", putExpires, putSig));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("PUT", "k", expires, sig));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("DELETE", "k", expires, sig));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("GET", "k2", expires, sig));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("GET", "k", expires + 3600, sig));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("GET", "k", expires, Tamper(sig)));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("GET", "k", expires, "not base64 !"));
        Assert.Equal(SignedUrlStatus.InvalidSignature, store.CheckSignedUrl("GET", "k", expires, ""));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(store.VerifySignature("GET", "k", expires, sig));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SignedUrlStatus.Expired, store.CheckSignedUrl("GET", "k", expires, sig));
        Assert.False(store.VerifySignature("GET", "k", expires, sig));
    }

    internal static (long Expires, string Sig) Query(Uri url)
    {
        var query = HttpUtility.ParseQueryString(url.Query);
        return (long.Parse(query["expires"]!), query["sig"]!);
    }

    internal static string Tamper(string sig) => (sig[0] == 'A' ? "B" : "A") + sig[1..];

    /// <summary>Gives <see cref="Half"/> bytes, signals, waits for release, gives another half.</summary>
    private sealed class PausingStream(TaskCompletionSource reached, Task release) : Stream
    {
        public const int Half = 300_000;
        private long given;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (given == Half)
            {
                reached.TrySetResult();
                await release.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }
            var limit = given < Half ? Half - given : 2 * Half - given;
            var n = (int)Math.Min(buffer.Length, limit);
            buffer.Span[..n].Fill(7);
            given += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
