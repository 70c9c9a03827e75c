namespace Atoll.System.Tests;

/// <summary>The agent asks a real executable named by <c>--nvidia-smi</c> and the server shows what it said as GpuReady.</summary>
[Collection(SharedServerCollection.Name)]
public sealed class GpuHealthTests(SharedServerFixture fixture)
{
    private const string MismatchScript = """
        #!/bin/bash
        # What nvidia-smi prints after the userspace driver was upgraded under a loaded kernel module.
        echo "Failed to initialize NVML: Driver/library version mismatch"
        exit 18
        """;

    private const string HealthyScript = """
        #!/bin/bash
        echo "0, GPU-aaaaaaaa-1111-2222-3333-444444444444, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1"
        echo "1, GPU-bbbbbbbb-1111-2222-3333-444444444444, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 36, 0, 1"
        """;

    private RunningServer Server => fixture.Server;

    [Fact]
    public async Task Driver_mismatch_makes_gpu_ready_false()
    {
        var scripts = fixture.NewDirectory("nvidia-smi");
        var mismatch = WriteScript(Path.Combine(scripts, "mismatch.sh"), MismatchScript);
        var healthy = WriteScript(Path.Combine(scripts, "healthy.sh"), HealthyScript);
        var token = await Server.CreateJoinTokenAsync(uses: 2);

        await using var broken = Server.StartAgent("nvml-mismatch", fixture.NewDirectory("nvml-mismatch"), token, "--nvidia-smi", mismatch);
        await using var fine = Server.StartAgent("nvml-healthy", fixture.NewDirectory("nvml-healthy"), token, "--nvidia-smi", healthy);

        var node = await Server.WaitReadyAsync("nvml-mismatch", broken);
        Assert.Equal("False", node.Status("GpuReady"));
        Assert.Equal("DriverLibraryMismatch", node.Reason("GpuReady"));
        Assert.Empty(node.Gpus);
        await broken.WaitForOutputAsync("GPUs not ready: DriverLibraryMismatch", TimeSpan.FromSeconds(10));

        node = await Server.WaitReadyAsync("nvml-healthy", fine);
        Assert.Equal("True", node.Status("GpuReady"));
        Assert.Equal(2, node.Gpus.Count);
        Assert.All(node.Gpus, g =>
        {
            Assert.Equal(81559, g.GetProperty("memoryTotalMiB").GetInt64());
            Assert.Equal("NVIDIA H100 80GB HBM3", g.GetProperty("name").GetString());
        });
        Assert.False(node.Raw.GetProperty("gpu").GetProperty("simulated").GetBoolean());
    }

    private static string WriteScript(string path, string text)
    {
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }
}
