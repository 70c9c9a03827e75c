namespace Atoll.Sim.Tests;

public class SimOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        new SimOptions().Validate();
    }

    [Theory]
    [InlineData("--failure-rate", "invalid --failure-rate 2: expected 0 to 1")]
    [InlineData("--jitter", "invalid --jitter -0.5: expected 0 to 1")]
    [InlineData("--max-num-seqs", "invalid --max-num-seqs 0: expected 1 or more")]
    [InlineData("--port", "invalid --port 70000: expected 0 to 65535")]
    [InlineData("--ttft", "invalid --ttft -1: expected 0 to 86400000 (milliseconds)")]
    [InlineData("--failure-kinds", "invalid --failure-kinds 500,boom: expected a comma list of 500, 429, invalid, model-not-found, hang, reset, midstream")]
    [InlineData("--default-max-tokens", "invalid --default-max-tokens 2000: expected 1 to --max-output-tokens (1024)")]
    [InlineData("--keep-alive-timeout", "invalid --keep-alive-timeout 0.5: expected 1 to 86400 (seconds)")]
    public void A_bad_value_fails_with_a_message_naming_the_option_and_what_is_accepted(string option, string message)
    {
        var options = new SimOptions();
        switch (option)
        {
            case "--failure-rate": options.FailureRate = 2; break;
            case "--jitter": options.Jitter = -0.5; break;
            case "--max-num-seqs": options.MaxNumSeqs = 0; break;
            case "--port": options.Port = 70000; break;
            case "--ttft": options.TimeToFirstToken = TimeSpan.FromMilliseconds(-1); break;
            case "--failure-kinds": options.FailureKinds = ["500", "boom"]; break;
            case "--default-max-tokens": options.DefaultMaxTokens = 2000; break;
            case "--keep-alive-timeout": options.KeepAliveTimeout = TimeSpan.FromSeconds(0.5); break;
        }

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(message, error.Message);
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => SimServer.Build(options)).Message);
    }
}
