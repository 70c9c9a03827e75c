using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class RetryBudgetTests
{
    private readonly FakeTimeProvider time = new();

    private RetryBudget Create(double minPerSecond = 3) =>
        new(new RetryBudgetOptions { RetryRatio = 0.2, Window = TimeSpan.FromSeconds(10), MinRetriesPerSecond = minPerSecond }, time);

    private static int Drain(RetryBudget budget)
    {
        var granted = 0;
        while (budget.TryAcquireRetry())
            granted++;
        return granted;
    }

    [Fact]
    public void Without_requests_only_the_minimum_reserve_is_allowed()
    {
        var budget = Create(minPerSecond: 3);
        Assert.Equal(30, Drain(budget));
        Assert.False(budget.TryAcquireRetry());
        Assert.Equal(30, budget.RetriesInWindow);
    }

    [Fact]
    public void Requests_add_retries_at_the_ratio()
    {
        var budget = Create(minPerSecond: 0);
        Assert.False(budget.TryAcquireRetry());
        for (var i = 0; i < 100; i++)
            budget.RecordRequest();
        Assert.Equal(20, Drain(budget));
        for (var i = 0; i < 5; i++)
            budget.RecordRequest();
        Assert.Equal(1, Drain(budget));
    }

    [Fact]
    public void Ratio_and_reserve_add_up()
    {
        var budget = Create(minPerSecond: 1);
        for (var i = 0; i < 50; i++)
            budget.RecordRequest();
        Assert.Equal(10 + 10, Drain(budget));
    }

    [Fact]
    public void Budget_refills_as_the_window_slides()
    {
        var budget = Create(minPerSecond: 0);
        for (var i = 0; i < 100; i++)
            budget.RecordRequest();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(20, Drain(budget));

        // The requests leave the window 10 s after they were made, five seconds before the retries do.
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, budget.RequestsInWindow);
        Assert.Equal(20, budget.RetriesInWindow);
        for (var i = 0; i < 100; i++)
            budget.RecordRequest();
        Assert.Equal(0, Drain(budget));

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, budget.RetriesInWindow);
        Assert.Equal(20, Drain(budget));
    }

    [Fact]
    public void Minimum_reserve_refills_after_a_window()
    {
        var budget = Create(minPerSecond: 3);
        Assert.Equal(30, Drain(budget));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(budget.TryAcquireRetry());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(30, Drain(budget));
    }

    [Fact]
    public void Invalid_options_are_rejected_naming_the_key()
    {
        var error = Assert.Throws<ArgumentException>(() => new RetryBudget(new RetryBudgetOptions { RetryRatio = -1 }, time));
        Assert.Contains(nameof(RetryBudgetOptions.RetryRatio), error.Message);
    }
}
