using System.Runtime.CompilerServices;

namespace Atoll.Core.Batch;

/// <summary>Reads the lines of a chunk (or of any JSONL stream) one at a time.</summary>
public static class ChunkReader
{
    /// <summary>
    /// Each non-blank line as its own array, without the newline or a trailing CR (and without a UTF-8 BOM if the
    /// stream starts with one). Blank lines are skipped: a validated chunk has none.
    /// </summary>
    public static async IAsyncEnumerable<byte[]> ReadLines(Stream chunk, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        var scanner = new JsonlLineScanner(chunk);
        await foreach (var line in scanner.ReadAsync(ct).ConfigureAwait(false))
        {
            if (!line.IsBlank)
            {
                yield return line.Content.ToArray();
            }
        }
    }
}
