namespace Atoll.Core.Tests;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData(" 1H ", 3600)]
    public void Parses_human_durations(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("0s")]
    [InlineData("1")]
    [InlineData("1x")]
    [InlineData("-1h")]
    [InlineData("m")]
    [InlineData("99999999999999999d")]
    public void Refuses_anything_else_naming_the_setting(string text)
    {
        var e = Assert.Throws<FormatException>(() => Durations.Parse(text, "--ttl"));
        Assert.Contains("invalid --ttl", e.Message);
        Assert.Contains("1h30m", e.Message);
    }

    [Theory]
    [InlineData(5400, "1h30m")]
    [InlineData(45, "45s")]
    [InlineData(2592000, "30d")]
    public void Formats_back(int seconds, string text) => Assert.Equal(text, Durations.Format(TimeSpan.FromSeconds(seconds)));
}
