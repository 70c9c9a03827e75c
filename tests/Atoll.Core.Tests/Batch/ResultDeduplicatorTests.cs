using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class ResultDeduplicatorTests
{
    private static byte[] Ok(string id, string content = "") =>
        BatchResultLine.Success(id, 200, "r", System.Text.Encoding.UTF8.GetBytes($$"""{"c":"{{content}}"}"""));

    private static byte[] Err(string id, string code = BatchResultCodes.UpstreamFailed) => BatchResultLine.Failure(id, code, "m");

    private static List<ResultDisposition> Run(ResultDeduplicator d, params byte[][] lines)
    {
        foreach (var line in lines)
        {
            d.Observe(line);
        }
        return lines.Select(l => d.Decide(l)).ToList();
    }

    [Fact]
    public void First_success_wins_and_later_duplicates_are_dropped()
    {
        var d = new ResultDeduplicator();

        var result = Run(d, Ok("a", "first"), Ok("b"), Ok("a", "second"));

        Assert.Equal([ResultDisposition.Output, ResultDisposition.Output, ResultDisposition.Drop], result);
        Assert.Equal(2, d.OutputCount);
        Assert.Equal(0, d.ErrorCount);
    }

    [Fact]
    public void An_error_is_dropped_when_a_success_for_the_same_custom_id_comes_later()
    {
        var d = new ResultDeduplicator();

        var result = Run(d, Err("a"), Err("b"), Ok("a"));

        Assert.Equal([ResultDisposition.Drop, ResultDisposition.Error, ResultDisposition.Output], result);
        Assert.Equal(1, d.OutputCount);
        Assert.Equal(1, d.ErrorCount);
    }

    [Fact]
    public void Only_the_first_error_is_kept_when_a_custom_id_never_succeeds()
    {
        var d = new ResultDeduplicator();

        var result = Run(d, Err("a", BatchResultCodes.RequestTimeout), Err("a"));

        Assert.Equal([ResultDisposition.Error, ResultDisposition.Drop], result);
    }

    [Fact]
    public void Has_result_tells_which_input_lines_still_need_a_cancelled_or_expired_line()
    {
        var d = new ResultDeduplicator();

        Run(d, Ok("a"), Err("b"));

        Assert.True(d.HasResult("a"));
        Assert.True(d.HasResult("b"));
        Assert.False(d.HasResult("c"));
    }

    [Fact]
    public void Deciding_without_observing_first_fails_loudly_instead_of_writing_a_custom_id_twice()
    {
        var d = new ResultDeduplicator();

        Assert.Equal(ResultDisposition.Error, d.Decide(Err("a")));
        Assert.Throws<InvalidOperationException>(() => d.Decide(Ok("a")));
    }

    [Fact]
    public void A_corrupt_line_is_an_error_not_a_silent_drop()
    {
        var d = new ResultDeduplicator();

        Assert.Throws<FormatException>(() => d.Observe("{\"truncated"u8));
        Assert.Throws<FormatException>(() => d.Decide("{\"truncated"u8));
    }
}
