namespace Atoll.Core.Batch;

/// <summary>Where <see cref="ResultDeduplicator.Decide"/> sends a result line.</summary>
public enum ResultDisposition
{
    /// <summary>Not written: another line already stands for this custom_id.</summary>
    Drop,

    /// <summary>Written to the output file.</summary>
    Output,

    /// <summary>Written to the error file.</summary>
    Error,
}
