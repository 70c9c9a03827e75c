namespace Atoll.Core.Batch;

/// <summary>
/// One line of a JSONL stream. <see cref="Content"/> excludes the newline, a trailing CR and (at offset 0) a UTF-8 BOM;
/// it is only valid until the scanner moves on. <see cref="End"/> includes the newline.
/// </summary>
internal readonly record struct JsonlLine(ReadOnlyMemory<byte> Content, int Number, long Start, long End)
{
    public bool IsBlank
    {
        get
        {
            foreach (var b in Content.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
