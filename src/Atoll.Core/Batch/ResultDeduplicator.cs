namespace Atoll.Core.Batch;

/// <summary>
/// Keeps exactly one result per custom_id when chunk results overlap (a chunk retried after its worker died may
/// have written some lines twice, or an error once and a success later).
/// </summary>
/// <remarks>
/// Rule: the first success for a custom_id wins; an error for a custom_id is kept only if no success for it appears
/// anywhere, and then only the first such error. Streaming in two passes over the same lines, in the same order:
/// pass 1 calls <see cref="Observe"/> on every line (remembers the custom_ids that succeeded); pass 2 calls
/// <see cref="Decide"/> on every line and writes it where told. Memory: two sets of custom_ids, never the lines.
/// After pass 2, <see cref="HasResult"/> tells which input lines still need a <c>batch_cancelled</c> or
/// <c>batch_expired</c> line.
/// </remarks>
public sealed class ResultDeduplicator
{
    private readonly HashSet<string> succeeded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ResultDisposition> written = new(StringComparer.Ordinal);

    /// <summary>Lines sent to the output file so far (the batch's <c>request_counts.completed</c>).</summary>
    public int OutputCount { get; private set; }

    /// <summary>Lines sent to the error file so far (the batch's <c>request_counts.failed</c>, before any lines added for cancel/expiry).</summary>
    public int ErrorCount { get; private set; }

    /// <summary>Pass 1. Throws <see cref="FormatException"/> for a line that is not a result line.</summary>
    public void Observe(ReadOnlySpan<byte> resultLine)
    {
        var (customId, success) = Read(resultLine);
        if (success)
        {
            succeeded.Add(customId);
        }
    }

    /// <summary>Pass 2: where this line goes. Throws <see cref="FormatException"/> for a line that is not a result line.</summary>
    public ResultDisposition Decide(ReadOnlySpan<byte> resultLine)
    {
        var (customId, success) = Read(resultLine);
        if (written.TryGetValue(customId, out var earlier))
        {
            if (success && earlier == ResultDisposition.Error)
            {
                throw new InvalidOperationException(
                    $"custom_id \"{customId}\" succeeded after its error was written: Observe every line before Decide");
            }
            return ResultDisposition.Drop;
        }
        if (!success && succeeded.Contains(customId))
        {
            return ResultDisposition.Drop;
        }
        var disposition = success ? ResultDisposition.Output : ResultDisposition.Error;
        written.Add(customId, disposition);
        if (success)
        {
            OutputCount++;
        }
        else
        {
            ErrorCount++;
        }
        return disposition;
    }

    /// <summary>True when a line for <paramref name="customId"/> has been sent to the output or error file.</summary>
    public bool HasResult(string customId) => written.ContainsKey(customId);

    private static (string CustomId, bool Success) Read(ReadOnlySpan<byte> line) =>
        BatchResultLine.TryRead(line, out var customId, out var success)
            ? (customId, success)
            : throw new FormatException("a chunk result line is not a batch result line (no custom_id or not a JSON object)");
}
