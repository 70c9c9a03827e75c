namespace Atoll.Core.Batch;

/// <summary>
/// The batch state machine: validating → in_progress | failed | cancelling; in_progress → finalizing | cancelling |
/// expired; finalizing → completed; cancelling → cancelled. completed, failed, expired and cancelled are terminal.
/// </summary>
/// <remarks>
/// finalizing cannot expire: by then every chunk has finished and the files are being written, so expiring would
/// only throw finished work away. A cancel that arrives while validating is honoured (no chunk has run yet).
/// </remarks>
public static class BatchTransitions
{
    public static bool CanMove(string from, string to) => (from, to) switch
    {
        (BatchStatus.Validating, BatchStatus.InProgress or BatchStatus.Failed or BatchStatus.Cancelling) => true,
        (BatchStatus.InProgress, BatchStatus.Finalizing or BatchStatus.Cancelling or BatchStatus.Expired) => true,
        (BatchStatus.Finalizing, BatchStatus.Completed) => true,
        (BatchStatus.Cancelling, BatchStatus.Cancelled) => true,
        _ => false,
    };

    public static bool IsTerminal(string status) =>
        status is BatchStatus.Completed or BatchStatus.Failed or BatchStatus.Expired or BatchStatus.Cancelled;

    /// <summary>True when <c>POST /v1/batches/{id}/cancel</c> may move the batch to cancelling.</summary>
    public static bool CanCancel(string status) => CanMove(status, BatchStatus.Cancelling);
}
