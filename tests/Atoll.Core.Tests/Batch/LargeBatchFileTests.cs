using System.Diagnostics;
using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

/// <summary>Runs alone so the process-wide allocation count measures the validator only.</summary>
[Collection(nameof(LargeBatchFileCollection))]
public sealed class LargeBatchFileTests
{
    [Fact]
    public async Task A_50000_line_file_validates_in_391_chunks_without_being_held_in_memory()
    {
        var input = new GeneratedBatchStream(50_000, lineBytes: 1024);
        var fileBytes = input.Length;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();

        var v = await BatchInputValidator.ValidateAsync(input, BatchEndpoints.ChatCompletions, new BatchLimits(), CancellationToken.None);

        clock.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.True(v.IsValid, string.Join("; ", v.Errors.Select(e => e.Message)));
        Assert.Equal(50_000, v.LineCount);
        Assert.Equal(fileBytes, v.Bytes);
        Assert.Equal(391, v.Chunks.Count);
        Assert.All(v.Chunks.SkipLast(1), c => Assert.Equal(128, c.LineCount));
        Assert.Equal(80, v.Chunks[^1].LineCount);
        Assert.Equal(390 * 128 + 1, v.Chunks[^1].FirstLine);
        Assert.Equal(fileBytes, v.Chunks[^1].EndOffset);
        Assert.Equal(128L * input.LineBytes, v.Chunks[1].StartOffset);
        // The file is ~50 MB; what the validator keeps is the custom_id set and a line buffer.
        Assert.True(allocated < fileBytes / 4, $"allocated {allocated} bytes validating a {fileBytes}-byte file");
        // Not a speed target (that lives in bench/): only catches a validator gone quadratic.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_line_after_50000_is_refused_by_default()
    {
        var v = await BatchInputValidator.ValidateAsync(new GeneratedBatchStream(50_001, lineBytes: 200),
            BatchEndpoints.ChatCompletions, new BatchLimits(), CancellationToken.None);

        var error = Assert.Single(v.Errors);
        Assert.Equal(BatchErrorCodes.TooManyLines, error.Code);
        Assert.Equal(50_001, error.Line);
    }
}
