namespace Atoll.Storage.State;

/// <summary>Counts of a batch's chunks by state, and of its lines by outcome so far.</summary>
public sealed record ChunkSummary(int Available, int Leased, int Done, int Failed, int SucceededLines, int FailedLines)
{
    public int Total => Available + Leased + Done + Failed;

    /// <summary>Every chunk finished (done or failed for good).</summary>
    public bool AllFinished => Available == 0 && Leased == 0;
}
