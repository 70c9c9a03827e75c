namespace Atoll.Agent.BatchWorker;

/// <summary>What the local model server answered to one batch request.</summary>
internal sealed record ModelAnswer(int StatusCode, byte[] Body, string RequestId)
{
    public bool IsSuccess => StatusCode is >= 200 and <= 299;

    /// <summary>Busy or broken now, maybe not in a moment: 408, 429 and 5xx are retried; other 4xx are the line's fault.</summary>
    public bool IsRetryable => StatusCode is 408 or 429 or >= 500;
}
