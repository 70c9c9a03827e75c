using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Atoll.Storage.Objects;

/// <summary>
/// Objects as files under <c>&lt;data&gt;/objects/&lt;key&gt;</c>. Writes go to a temporary file that is renamed into
/// place, so a crash never leaves part of an object under its name. Signed URLs point at the server's own
/// <c>/objects/{key}</c> route and carry an HMAC-SHA256 over method, key and expiry.
/// </summary>
public sealed class FileObjectStore : IObjectStore
{
    private const int BufferSize = 81920;
    private const int SignatureLength = HMACSHA256.HashSizeInBytes;

    // A temporary file older than this is left over from a crash; younger ones may be a write in progress.
    private static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    private readonly string root;
    private readonly string tempDir;
    private readonly string baseUrl;
    private readonly byte[] signingKey;
    private readonly TimeProvider time;

    /// <param name="dataDir">The server's data directory: objects go to its <c>objects/</c> folder.</param>
    /// <param name="publicBaseUrl">How clients reach the server (scheme, host, port, optional path prefix).</param>
    public FileObjectStore(string dataDir, Uri publicBaseUrl, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        if (!publicBaseUrl.IsAbsoluteUri || (publicBaseUrl.Scheme != Uri.UriSchemeHttp && publicBaseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"the public base URL '{publicBaseUrl}' must be an absolute http:// or https:// URL", nameof(publicBaseUrl));
        }
        var fullDataDir = Path.GetFullPath(dataDir);
        root = Path.Combine(fullDataDir, "objects");
        tempDir = Path.Combine(fullDataDir, "objects.tmp");
        baseUrl = publicBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
        this.time = time ?? TimeProvider.System;
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(tempDir);
        signingKey = ObjectSigningKey.LoadOrCreate(fullDataDir);
        RemoveStaleTempFiles();
    }

    public string Description => $"filesystem {root}";

    /// <summary>Where the object <paramref name="key"/> lives on disk (whether or not it exists).</summary>
    public string PathOf(string key)
    {
        ObjectKeys.Validate(key);
        return Path.Combine(root, key);
    }

    public async Task PutAsync(string key, Stream content, CancellationToken ct)
    {
        var path = PathOf(key);
        var temp = Path.Combine(tempDir, Guid.NewGuid().ToString("N"));
        try
        {
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, BufferSize, ct).ConfigureAwait(false);
                await file.FlushAsync(ct).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<Stream> OpenReadAsync(string key, long offset, long? length, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(n, nameof(length));
        }
        var path = PathOf(key);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException
            || (e is UnauthorizedAccessException && Directory.Exists(path)))
        {
            throw new ObjectNotFoundException(key, e);
        }
        try
        {
            var size = file.Length;
            if (offset > size)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"object '{key}' has only {size} bytes");
            }
            if (offset == 0 && length is null)
            {
                return Task.FromResult<Stream>(file);
            }
            file.Seek(offset, SeekOrigin.Begin);
            return Task.FromResult<Stream>(new BoundedReadStream(file, Math.Min(length ?? long.MaxValue, size - offset)));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken ct)
    {
        var info = new FileInfo(PathOf(key));
        return Task.FromResult(info.Exists ? new ObjectInfo(key, info.Length, info.LastWriteTimeUtc) : null);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }
        File.Delete(path);
        return Task.FromResult(true);
    }

    public Uri SignedGetUrl(string key, TimeSpan ttl) => SignedUrl("GET", key, ttl);

    public Uri SignedPutUrl(string key, TimeSpan ttl) => SignedUrl("PUT", key, ttl);

    /// <summary>Whether <paramref name="sig"/> is this store's signature for that method, key and expiry, and unexpired.</summary>
    public bool VerifySignature(string method, string key, long expires, string sig) =>
        CheckSignedUrl(method, key, expires, sig) == SignedUrlStatus.Valid;

    /// <summary>
    /// Checks the <c>expires</c> and <c>sig</c> of a signed URL for <paramref name="method"/> (GET or PUT) on
    /// <paramref name="key"/>; the signature is compared in constant time, before the expiry is looked at.
    /// </summary>
    public SignedUrlStatus CheckSignedUrl(string method, string key, long expires, string sig)
    {
        method = method.ToUpperInvariant();
        if (method is not ("GET" or "PUT") || !Base64Url.IsValid(sig, out var length) || length != SignatureLength)
        {
            return SignedUrlStatus.InvalidSignature;
        }
        Span<byte> given = stackalloc byte[SignatureLength];
        if (!Base64Url.TryDecodeFromChars(sig, given, out var written) || written != SignatureLength
            || !CryptographicOperations.FixedTimeEquals(given, Sign(method, key, expires)))
        {
            return SignedUrlStatus.InvalidSignature;
        }
        return time.GetUtcNow().ToUnixTimeSeconds() > expires ? SignedUrlStatus.Expired : SignedUrlStatus.Valid;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Uri SignedUrl(string method, string key, TimeSpan ttl)
    {
        ObjectKeys.Validate(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var expires = (time.GetUtcNow() + ttl).ToUnixTimeSeconds();
        var sig = Base64Url.EncodeToString(Sign(method, key, expires));
        return new Uri($"{baseUrl}/objects/{key}?expires={expires}&sig={sig}");
    }

    private byte[] Sign(string method, string key, long expires) =>
        HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes($"{method}\n{key}\n{expires}"));

    private void RemoveStaleTempFiles()
    {
        // File times are on the real clock, whatever clock the store was given.
        var cutoff = TimeProvider.System.GetUtcNow().UtcDateTime - StaleTempAge;
        foreach (var file in new DirectoryInfo(tempDir).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc < cutoff)
            {
                try
                {
                    file.Delete();
                }
                catch (IOException)
                {
                    // Best effort: it is garbage either way and will be tried again at the next start.
                }
            }
        }
    }
}
