using Atoll.Core.Health;

namespace Atoll.Core.Tests.Health;

public class SimulatedGpusTests
{
    [Fact]
    public void Count_model_and_memory_become_simulated_gpus()
    {
        var report = SimulatedGpus.Parse("2xH100-80GB");

        Assert.True(report.Healthy);
        Assert.True(report.Simulated);
        Assert.Equal(GpuHealthReasons.GpusHealthy, report.Reason);
        Assert.Equal("2 GPU(s): 2x NVIDIA H100 80GB, driver simulated", report.Message);
        Assert.Equal([0, 1], report.Gpus.Select(g => g.Index));
        Assert.All(report.Gpus, g =>
        {
            Assert.Equal("NVIDIA H100 80GB", g.Name);
            Assert.Equal(81920L, g.MemoryTotalMiB);
            Assert.Equal("simulated", g.DriverVersion);
            Assert.Equal(0, g.TemperatureC);
            Assert.Equal(0, g.UtilizationPercent);
            Assert.Equal(0L, g.MemoryUsedMiB);
            Assert.StartsWith($"GPU-sim-{g.Index}-", g.Uuid);
        });
        Assert.NotEqual(report.Gpus[0].Uuid, report.Gpus[1].Uuid);
    }

    [Fact]
    public void Uuids_are_the_same_on_every_parse()
    {
        Assert.Equal(
            SimulatedGpus.Parse("8xA100-40GB").Gpus.Select(g => g.Uuid),
            SimulatedGpus.Parse("8xA100-40GB").Gpus.Select(g => g.Uuid));
    }

    [Theory]
    [InlineData("H100-80GB", 1, "NVIDIA H100 80GB", 81920L)]
    [InlineData("8xA100-40GB", 8, "NVIDIA A100 40GB", 40960L)]
    [InlineData("1xRTX3090-24GB", 1, "NVIDIA RTX3090 24GB", 24576L)]
    [InlineData("4xL40S", 4, "NVIDIA L40S", null)]
    [InlineData(" 2XH100-80gb ", 2, "NVIDIA H100 80GB", 81920L)]
    [InlineData("1xNVIDIA H100-80GB", 1, "NVIDIA H100 80GB", 81920L)]
    public void Accepted_forms(string spec, int count, string name, long? memoryMiB)
    {
        var report = SimulatedGpus.Parse(spec);

        Assert.Equal(count, report.Gpus.Count);
        Assert.All(report.Gpus, g => Assert.Equal(name, g.Name));
        Assert.All(report.Gpus, g => Assert.Equal(memoryMiB, g.MemoryTotalMiB));
    }

    [Fact]
    public void Several_groups_are_numbered_in_order()
    {
        var report = SimulatedGpus.Parse("2xH100-80GB,1xA10-24GB");

        Assert.Equal([0, 1, 2], report.Gpus.Select(g => g.Index));
        Assert.Equal(["NVIDIA H100 80GB", "NVIDIA H100 80GB", "NVIDIA A10 24GB"], report.Gpus.Select(g => g.Name));
        Assert.Equal(24576L, report.Gpus[2].MemoryTotalMiB);
        Assert.Equal("3 GPU(s): 2x NVIDIA H100 80GB, 1x NVIDIA A10 24GB, driver simulated", report.Message);
        Assert.Equal(3, report.Gpus.Select(g => g.Uuid).Distinct().Count());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("none")]
    [InlineData("NONE")]
    public void Zero_or_none_means_no_gpus(string spec)
    {
        var report = SimulatedGpus.Parse(spec);

        Assert.Empty(report.Gpus);
        Assert.True(report.Healthy);
        Assert.Equal(GpuHealthReasons.NoGpus, report.Reason);
    }

    [Theory]
    [InlineData("x2H100", "before the 'x'")]
    [InlineData("0xH100", "at least 1")]
    [InlineData("-1xA100", "positive whole number")]
    [InlineData("2xH100-abcGB", "whole number of GB")]
    [InlineData("2xH100-0GB", "whole number of GB")]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("2x", "model is missing")]
    [InlineData("2H100", "expected 'x' after the count")]
    [InlineData("2xH100,", "between commas is empty")]
    [InlineData("none,2xH100", "cannot be combined")]
    [InlineData("2x#H100", "must start with a letter")]
    [InlineData("99999999999xH100", "more than 1024")]
    [InlineData("1000xH100,1000xA100", "more than 1024")]
    public void Invalid_specs_say_what_is_wrong_and_show_the_accepted_form(string spec, string problem)
    {
        var ex = Assert.Throws<FormatException>(() => SimulatedGpus.Parse(spec));

        Assert.StartsWith($"invalid --gpus '{spec}': ", ex.Message);
        Assert.Contains(problem, ex.Message);
        Assert.EndsWith("expected COUNTxMODEL[-MEMGB][,...], e.g. 2xH100-80GB", ex.Message);
    }
}
