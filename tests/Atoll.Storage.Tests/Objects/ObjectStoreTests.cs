using System.Security.Cryptography;
using System.Text;
using Atoll.Storage.Objects;
using Atoll.Testing;

namespace Atoll.Storage.Tests.Objects;

/// <summary>What every object store does, on the filesystem and on S3 (s3rver).</summary>
public sealed class ObjectStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Put_then_read_gives_back_the_same_bytes(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);
        var bytes = Encoding.UTF8.GetBytes("{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n");

        await t.Store.PutAsync("batches/b1/input.jsonl", new MemoryStream(bytes), None);

        Assert.Equal(bytes, await ReadAllAsync(t.Store, "batches/b1/input.jsonl", 0, null));
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Put_replaces_an_existing_object(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);
        await t.Store.PutAsync("k", new MemoryStream("first version, longer"u8.ToArray()), None);

        await t.Store.PutAsync("k", new MemoryStream("second"u8.ToArray()), None);

        Assert.Equal("second"u8.ToArray(), await ReadAllAsync(t.Store, "k", 0, null));
        Assert.Equal(6, (await t.Store.StatAsync("k", None))!.Size);
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Range_reads_return_exactly_the_bytes_asked_for(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);
        var bytes = Enumerable.Range(0, 1000).Select(i => (byte)(i % 251)).ToArray();
        await t.Store.PutAsync("r", new MemoryStream(bytes), None);

        Assert.Equal(bytes[100..150], await ReadAllAsync(t.Store, "r", 100, 50));
        Assert.Equal(bytes[900..], await ReadAllAsync(t.Store, "r", 900, null));
        Assert.Equal(bytes[..1], await ReadAllAsync(t.Store, "r", 0, 1));
        // A length past the end gives what there is.
        Assert.Equal(bytes[990..], await ReadAllAsync(t.Store, "r", 990, 100));
        // Reading at the end is empty; past it is an error.
        Assert.Empty(await ReadAllAsync(t.Store, "r", 1000, null));
        Assert.Empty(await ReadAllAsync(t.Store, "r", 1000, 10));
        Assert.Empty(await ReadAllAsync(t.Store, "r", 10, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => t.Store.OpenReadAsync("r", 1001, null, None));
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task A_40_MB_object_streams_in_and_out_intact(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind, partSizeMiB: 5);
        const long size = 40L * 1000 * 1000;
        using var source = new GeneratedStream(size, seed: 42);

        await t.Store.PutAsync("big/object.bin", source, None);

        Assert.Equal(size, source.Generated);
        Assert.Equal(size, (await t.Store.StatAsync("big/object.bin", None))!.Size);
        await using var read = await t.Store.OpenReadAsync("big/object.bin", 0, null, None);
        Assert.Equal(source.Sha256(), await SHA256.HashDataAsync(read));
        // A range across a part boundary (5 MiB) of the multipart upload on S3.
        var boundary = 5L * 1024 * 1024;
        var expected = await SliceAsync(size, 42, boundary - 10, 20);
        Assert.Equal(expected, await ReadAllAsync(t.Store, "big/object.bin", boundary - 10, 20));
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Stat_gives_size_and_time_and_delete_removes(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await t.Store.PutAsync("s/one", new MemoryStream(new byte[1234]), None);

        var info = await t.Store.StatAsync("s/one", None);

        Assert.NotNull(info);
        Assert.Equal("s/one", info.Key);
        Assert.Equal(1234, info.Size);
        Assert.InRange(info.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.True(await t.Store.DeleteAsync("s/one", None));
        Assert.Null(await t.Store.StatAsync("s/one", None));
        Assert.False(await t.Store.DeleteAsync("s/one", None));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => t.Store.OpenReadAsync("s/one", 0, null, None));
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task A_missing_key_is_not_found(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);
        await t.Store.PutAsync("present/x", new MemoryStream([1]), None);

        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => t.Store.OpenReadAsync("absent/x", 0, null, None));
        Assert.Equal("absent/x", e.Key);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => t.Store.OpenReadAsync("absent/x", 5, 10, None));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => t.Store.OpenReadAsync("absent/x", 0, 0, None));
        // A "directory" of other objects is not an object either.
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => t.Store.OpenReadAsync("present", 0, null, None));
        Assert.Null(await t.Store.StatAsync("absent/x", None));
        Assert.Null(await t.Store.StatAsync("present", None));
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task A_put_whose_source_fails_leaves_the_previous_object(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind, partSizeMiB: 5);
        await t.Store.PutAsync("p", new MemoryStream("old"u8.ToArray()), None);

        // Fails after two parts' worth on S3, so an unfinished multipart upload has to be abandoned.
        await Assert.ThrowsAsync<IOException>(() => t.Store.PutAsync("p", new FailingStream(11L * 1024 * 1024), None));
        await Assert.ThrowsAsync<IOException>(() => t.Store.PutAsync("q", new FailingStream(100), None));

        Assert.Equal("old"u8.ToArray(), await ReadAllAsync(t.Store, "p", 0, null));
        Assert.Null(await t.Store.StatAsync("q", None));
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Bad_keys_are_refused(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);
        foreach (var key in FileObjectStoreTests.BadKeys)
        {
            await Assert.ThrowsAsync<ArgumentException>(() => t.Store.PutAsync(key, new MemoryStream([1]), None));
            await Assert.ThrowsAsync<ArgumentException>(() => t.Store.OpenReadAsync(key, 0, null, None));
            await Assert.ThrowsAsync<ArgumentException>(() => t.Store.StatAsync(key, None));
            Assert.Throws<ArgumentException>(() => t.Store.SignedGetUrl(key, TimeSpan.FromMinutes(1)));
        }
    }

    [Theory]
    [MemberData(nameof(ObjectStores.All), MemberType = typeof(ObjectStores))]
    public async Task Description_names_the_store_without_secrets(string kind)
    {
        await using var t = await TestObjectStore.CreateAsync(kind);

        Assert.Contains(kind == ObjectStores.File ? Path.Combine(t.DataDir, "objects") : "s3://atoll-t-", t.Store.Description);
        Assert.DoesNotContain(ObjectStores.SecretKey, t.Store.Description);
    }

    internal static async Task<byte[]> ReadAllAsync(IObjectStore store, string key, long offset, long? length)
    {
        await using var stream = await store.OpenReadAsync(key, offset, length, None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async Task<byte[]> SliceAsync(long size, int seed, long offset, int count)
    {
        using var source = new GeneratedStream(size, seed);
        var skip = new byte[1 << 20];
        var remaining = offset;
        while (remaining > 0)
        {
            remaining -= await source.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, remaining)));
        }
        var slice = new byte[count];
        await source.ReadExactlyAsync(slice);
        return slice;
    }

    /// <summary>Gives zeros, then fails like a dropped upload connection.</summary>
    private sealed class FailingStream(long failAfter) : Stream
    {
        private long given;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (given >= failAfter)
            {
                throw new IOException("connection reset by peer");
            }
            var n = (int)Math.Min(count, failAfter - given);
            Array.Clear(buffer, offset, n);
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
