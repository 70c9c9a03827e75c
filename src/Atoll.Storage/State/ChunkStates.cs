namespace Atoll.Storage.State;

/// <summary>States of a chunk in the queue.</summary>
public static class ChunkStates
{
    public const string Available = "available";
    public const string Leased = "leased";
    public const string Done = "done";
    public const string Failed = "failed";
}
