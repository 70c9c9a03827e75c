using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class BatchTransitionsTests
{
    private static readonly (string From, string To)[] Allowed =
    [
        (BatchStatus.Validating, BatchStatus.InProgress),
        (BatchStatus.Validating, BatchStatus.Failed),
        (BatchStatus.Validating, BatchStatus.Cancelling),
        (BatchStatus.InProgress, BatchStatus.Finalizing),
        (BatchStatus.InProgress, BatchStatus.Cancelling),
        (BatchStatus.InProgress, BatchStatus.Expired),
        (BatchStatus.Finalizing, BatchStatus.Completed),
        (BatchStatus.Cancelling, BatchStatus.Cancelled),
    ];

    [Fact]
    public void Exactly_the_documented_moves_are_allowed()
    {
        foreach (var from in BatchStatus.All)
        {
            foreach (var to in BatchStatus.All)
            {
                Assert.True(Allowed.Contains((from, to)) == BatchTransitions.CanMove(from, to), $"{from} -> {to}");
            }
        }
    }

    [Theory]
    [InlineData(BatchStatus.Completed, true)]
    [InlineData(BatchStatus.Failed, true)]
    [InlineData(BatchStatus.Expired, true)]
    [InlineData(BatchStatus.Cancelled, true)]
    [InlineData(BatchStatus.Validating, false)]
    [InlineData(BatchStatus.InProgress, false)]
    [InlineData(BatchStatus.Finalizing, false)]
    [InlineData(BatchStatus.Cancelling, false)]
    public void Terminal_states_have_no_way_out(string status, bool terminal)
    {
        Assert.Equal(terminal, BatchTransitions.IsTerminal(status));
        if (terminal)
        {
            Assert.DoesNotContain(BatchStatus.All, to => BatchTransitions.CanMove(status, to));
        }
    }

    [Theory]
    [InlineData(BatchStatus.Validating, true)]
    [InlineData(BatchStatus.InProgress, true)]
    [InlineData(BatchStatus.Finalizing, false)]
    [InlineData(BatchStatus.Cancelling, false)]
    [InlineData(BatchStatus.Completed, false)]
    public void Only_unfinished_batches_can_be_cancelled(string status, bool can) =>
        Assert.Equal(can, BatchTransitions.CanCancel(status));

    [Fact]
    public void Status_names_are_openais()
    {
        Assert.Equal(
            ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"],
            BatchStatus.All);
        Assert.False(BatchStatus.IsKnown("running"));
    }
}
