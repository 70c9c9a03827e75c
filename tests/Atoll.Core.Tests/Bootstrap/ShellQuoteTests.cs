using Atoll.Core.Bootstrap;

namespace Atoll.Core.Tests.Bootstrap;

public sealed class ShellQuoteTests
{
    public static TheoryData<string> Values() =>
    [
        "",
        "plain",
        "with space",
        "it's",
        "'",
        "''",
        "\"double\"",
        "$HOME",
        "${PATH}",
        "`id`",
        "$(id)",
        "\\",
        "back\\slash\\",
        "line\nbreak",
        "tab\there",
        "-n",
        "*",
        "~root",
        "é ünïcödé ✓",
        BootstrapSamples.Hostile,
    ];

    [ToolFact("/bin/bash")]
    public void A_quoted_word_reaches_a_command_unchanged()
    {
        foreach (var value in Values())
        {
            var (exit, output) = ShellTool.Run(ShellTool.Bash, ["-c", "printf '%s' " + ShellQuote.Word(value)]);
            Assert.True(exit == 0, output);
            Assert.Equal(value, output);
        }
    }

    [ToolFact("/bin/bash")]
    public void A_sourced_env_value_reads_back_unchanged()
    {
        foreach (var value in Values())
        {
            using var env = ShellTool.Write("V=" + ShellQuote.EnvValue(value) + "\n", ".env");
            var (exit, output) = ShellTool.Run(ShellTool.Bash, ["-c", "set -a; . \"$1\"; printf '%s' \"$V\"", "bash", env.Path]);
            Assert.True(exit == 0, output);
            Assert.Equal(value, output);
        }
    }

    [Theory]
    [InlineData("simple-value_1.2/3:4")]
    [InlineData("atoll.dev/pool=gpu")]
    public void Safe_words_stay_bare(string value) => Assert.Equal(value, ShellQuote.Word(value));

    [Fact]
    public void Nul_is_refused()
    {
        Assert.Throws<ArgumentException>(() => ShellQuote.Word("a\0b"));
        Assert.Throws<ArgumentException>(() => ShellQuote.EnvValue("a\0b"));
    }
}
