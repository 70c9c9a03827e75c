namespace Atoll.Core.Batch;

/// <summary>The <c>purpose</c> values of files this server keeps.</summary>
public static class FilePurposes
{
    /// <summary>An uploaded batch input file (the only purpose accepted on upload).</summary>
    public const string Batch = "batch";

    /// <summary>A batch's output or error file.</summary>
    public const string BatchOutput = "batch_output";
}
