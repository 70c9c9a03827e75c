namespace Atoll.Core.Batch;

/// <summary>
/// A run of consecutive input lines that one worker leases: bytes [<see cref="StartOffset"/>, <see cref="EndOffset"/>)
/// of the input object, so it can be read with a byte-range request. The range includes each line's newline.
/// </summary>
/// <param name="Seq">0-based position of the chunk in the file.</param>
/// <param name="FirstLine">1-based line number of the chunk's first line.</param>
public sealed record ChunkRange(int Seq, long StartOffset, long EndOffset, int FirstLine, int LineCount)
{
    public long Length => EndOffset - StartOffset;
}
