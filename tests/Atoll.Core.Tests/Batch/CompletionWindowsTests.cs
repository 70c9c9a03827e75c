using Atoll.Core.Batch;

namespace Atoll.Core.Tests.Batch;

public sealed class CompletionWindowsTests
{
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    [Theory]
    [InlineData("24h", 24)]
    [InlineData("1h", 1)]
    [InlineData("48h", 48)]
    [InlineData("7d", 168)]
    public void Accepts_durations_up_to_the_maximum(string text, int hours) =>
        Assert.Equal(TimeSpan.FromHours(hours), CompletionWindows.Parse(text, Week));

    [Fact]
    public void Refuses_a_window_longer_than_the_maximum_naming_it()
    {
        var e = Assert.Throws<FormatException>(() => CompletionWindows.Parse("48h", TimeSpan.FromHours(24)));

        Assert.Contains("'48h'", e.Message);
        Assert.Contains("maximum of 1d", e.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("24")]
    [InlineData("tomorrow")]
    [InlineData("0h")]
    public void Refuses_what_is_not_a_duration_naming_the_accepted_form(string? text)
    {
        Assert.False(CompletionWindows.TryParse(text, Week, out _, out var error));
        Assert.Contains("completion_window", error);
        Assert.Contains("24h", error);
    }
}
