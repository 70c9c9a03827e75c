namespace Atoll.Core.Batch;

/// <summary>The <c>status</c> values of an OpenAI batch.</summary>
public static class BatchStatus
{
    public const string Validating = "validating";
    public const string Failed = "failed";
    public const string InProgress = "in_progress";
    public const string Finalizing = "finalizing";
    public const string Completed = "completed";
    public const string Expired = "expired";
    public const string Cancelling = "cancelling";
    public const string Cancelled = "cancelled";

    public static IReadOnlyList<string> All { get; } =
        [Validating, Failed, InProgress, Finalizing, Completed, Expired, Cancelling, Cancelled];

    public static bool IsKnown(string? status) => status is not null && All.Contains(status);
}
