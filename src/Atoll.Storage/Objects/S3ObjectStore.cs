using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Atoll.Storage.Objects;

/// <summary>
/// Objects in an S3-compatible bucket under a key prefix. Large objects go up as multipart uploads, one part held in
/// memory at a time; signed URLs are S3 presigned URLs, so readers and writers talk to S3 directly.
/// </summary>
public sealed class S3ObjectStore : IObjectStore
{
    private readonly S3Location location;
    private readonly AmazonS3Client client;

    internal S3ObjectStore(S3Location location, AWSCredentials credentials, Action<AmazonS3Config>? configure = null)
    {
        this.location = location;
        var config = new AmazonS3Config
        {
            // s3rver (and some other S3-compatible servers) reject the optional checksums SDK v4 sends by default.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (location.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = location.Region;
            config.ForcePathStyle = true;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(location.Region);
        }
        configure?.Invoke(config);
        client = new AmazonS3Client(credentials, config);
    }

    public string Description => location.ToString();

    /// <summary>Objects larger than this go up in parts of this size.</summary>
    public long PartSize => location.PartSize;

    public async Task PutAsync(string key, Stream content, CancellationToken ct)
    {
        var fullKey = FullKey(key);
        var buffer = new byte[location.PartSize];
        var filled = await FillAsync(content, buffer, ct).ConfigureAwait(false);
        if (filled < buffer.Length)
        {
            using var body = new MemoryStream(buffer, 0, filled, writable: false);
            await client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = location.Bucket,
                Key = fullKey,
                InputStream = body,
                AutoCloseStream = false,
                // Without this s3rver stores the aws-chunked framing as part of the object.
                UseChunkEncoding = false,
            }, ct).ConfigureAwait(false);
            return;
        }
        await PutMultipartAsync(fullKey, content, buffer, ct).ConfigureAwait(false);
    }

    public async Task<Stream> OpenReadAsync(string key, long offset, long? length, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(n, nameof(length));
        }
        var fullKey = FullKey(key);
        if (length == 0)
        {
            // S3 has no empty range: check that the object and offset exist, then give nothing.
            var info = await StatAsync(key, ct).ConfigureAwait(false) ?? throw new ObjectNotFoundException(key);
            ThrowIfPastEnd(key, offset, info.Size);
            return Stream.Null;
        }
        var request = new GetObjectRequest { BucketName = location.Bucket, Key = fullKey };
        if (offset > 0 || length is not null)
        {
            request.ByteRange = length is { } count ? new ByteRange(offset, offset + count - 1) : new ByteRange($"bytes={offset}-");
        }
        GetObjectResponse response;
        try
        {
            response = await client.GetObjectAsync(request, ct).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(key, e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // S3 answers 416 for a range that starts at the end, which is an empty read here.
            var info = await StatAsync(key, ct).ConfigureAwait(false) ?? throw new ObjectNotFoundException(key, e);
            ThrowIfPastEnd(key, offset, info.Size);
            return Stream.Null;
        }
        // Bounded by the requested length too: some servers (s3rver for bytes=0-0) answer a range with the whole object.
        return new BoundedReadStream(response.ResponseStream, Math.Min(response.ContentLength, length ?? long.MaxValue), response);
    }

    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken ct)
    {
        var fullKey = FullKey(key);
        try
        {
            var head = await client.GetObjectMetadataAsync(location.Bucket, fullKey, ct).ConfigureAwait(false);
            // Every S3 server sends Last-Modified; the epoch stands for "unknown" should one not.
            var modified = head.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UnixEpoch;
            return new ObjectInfo(key, head.ContentLength, modified);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        // S3 deletes succeed whether or not the object was there: ask first to answer whether it was.
        if (await StatAsync(key, ct).ConfigureAwait(false) is null)
        {
            return false;
        }
        await client.DeleteObjectAsync(location.Bucket, FullKey(key), ct).ConfigureAwait(false);
        return true;
    }

    public Uri SignedGetUrl(string key, TimeSpan ttl) => Presign(HttpVerb.GET, key, ttl);

    public Uri SignedPutUrl(string key, TimeSpan ttl) => Presign(HttpVerb.PUT, key, ttl);

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task PutMultipartAsync(string fullKey, Stream content, byte[] buffer, CancellationToken ct)
    {
        var upload = await client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = location.Bucket, Key = fullKey }, ct).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var filled = buffer.Length;
            while (filled > 0)
            {
                var number = parts.Count + 1;
                using (var body = new MemoryStream(buffer, 0, filled, writable: false))
                {
                    var part = await client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = location.Bucket,
                        Key = fullKey,
                        UploadId = upload.UploadId,
                        PartNumber = number,
                        PartSize = filled,
                        InputStream = body,
                        UseChunkEncoding = false,
                    }, ct).ConfigureAwait(false);
                    parts.Add(new PartETag(number, part.ETag));
                }
                filled = await FillAsync(content, buffer, ct).ConfigureAwait(false);
            }
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = location.Bucket,
                Key = fullKey,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, ct).ConfigureAwait(false);
        }
        catch
        {
            await AbortQuietlyAsync(fullKey, upload.UploadId).ConfigureAwait(false);
            throw;
        }
    }

    // Parts of an unfinished upload are billed storage until aborted. A failed abort must not hide why the upload
    // failed (s3rver, for one, does not implement it); bucket lifecycle rules catch what is left.
    private async Task AbortQuietlyAsync(string fullKey, string uploadId)
    {
        try
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
            {
                BucketName = location.Bucket,
                Key = fullKey,
                UploadId = uploadId,
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AmazonServiceException)
        {
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; the number of bytes read.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, CancellationToken ct)
    {
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await content.ReadAsync(buffer.AsMemory(filled), ct).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }
        return filled;
    }

    private Uri Presign(HttpVerb verb, string key, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        var url = client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = location.Bucket,
            Key = FullKey(key),
            Verb = verb,
            // The SDK signs with the real clock, so the expiry must be on it too (not a test's fake time).
            Expires = (TimeProvider.System.GetUtcNow() + ttl).UtcDateTime,
            Protocol = location.Endpoint?.Scheme == Uri.UriSchemeHttp ? Protocol.HTTP : Protocol.HTTPS,
        });
        return new Uri(url);
    }

    private string FullKey(string key)
    {
        ObjectKeys.Validate(key);
        return location.Prefix + key;
    }

    private static void ThrowIfPastEnd(string key, long offset, long size)
    {
        if (offset > size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"object '{key}' has only {size} bytes");
        }
    }

    private static bool IsNotFound(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is not "NoSuchBucket";
}
