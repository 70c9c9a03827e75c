namespace Atoll.Core.Batch;

/// <summary>Codes of the <c>error</c> object of error-file lines written by Atoll itself (not by the model server).</summary>
public static class BatchResultCodes
{
    /// <summary>The line never ran before the batch reached <c>expires_at</c>.</summary>
    public const string BatchExpired = "batch_expired";

    /// <summary>The line never ran before the batch was cancelled.</summary>
    public const string BatchCancelled = "batch_cancelled";

    /// <summary>The model server did not answer in time.</summary>
    public const string RequestTimeout = "request_timeout";

    /// <summary>The line's chunk failed its maximum attempts (connection errors or 5xx each time).</summary>
    public const string UpstreamFailed = "upstream_failed";
}
