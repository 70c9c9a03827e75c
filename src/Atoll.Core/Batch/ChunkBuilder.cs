namespace Atoll.Core.Batch;

/// <summary>Groups consecutive lines into <see cref="ChunkRange"/>s of a fixed number of lines.</summary>
internal sealed class ChunkBuilder(int chunkLines)
{
    private readonly List<ChunkRange> chunks = [];
    private long start;
    private long end;
    private int firstLine;
    private int count;

    public IReadOnlyList<ChunkRange> Chunks => chunks;

    public void Add(in JsonlLine line)
    {
        if (count == 0)
        {
            start = line.Start;
            firstLine = line.Number;
        }
        end = line.End;
        if (++count == chunkLines)
        {
            Flush();
        }
    }

    public void Flush()
    {
        if (count > 0)
        {
            chunks.Add(new ChunkRange(chunks.Count, start, end, firstLine, count));
            count = 0;
        }
    }
}
