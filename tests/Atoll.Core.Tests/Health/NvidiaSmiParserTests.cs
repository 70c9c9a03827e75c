using Atoll.Core.Health;

namespace Atoll.Core.Tests.Health;

public class NvidiaSmiParserTests
{
    private const string EightH100 = """
        0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
        1, GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 32, 0, 1
        2, GPU-7b2e3c4d-5f6a-4b7c-9d8e-2123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 35, 0, 1
        3, GPU-8c3f4d5e-6a7b-4c8d-ae9f-3123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 33, 0, 1
        4, GPU-9d4a5e6f-7b8c-4d9e-bfa0-4123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 36, 0, 1
        5, GPU-ae5b6f7a-8c9d-4eaf-80b1-5123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 31, 0, 1
        6, GPU-bf6c7a8b-9dae-4fb0-91c2-6123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
        7, GPU-c07d8b9c-aebf-40c1-a2d3-7123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 37, 100, 80873
        """;

    [Fact]
    public void Eight_healthy_H100s_are_parsed_with_their_values_and_summarised()
    {
        var report = NvidiaSmiParser.Parse(EightH100, "", 0);

        Assert.True(report.Healthy);
        Assert.Equal(GpuHealthReasons.GpusHealthy, report.Reason);
        Assert.Equal("8 GPU(s): 8x NVIDIA H100 80GB HBM3, driver 550.54.15", report.Message);
        Assert.False(report.Simulated);
        Assert.Equal(Enumerable.Range(0, 8), report.Gpus.Select(g => g.Index));
        Assert.All(report.Gpus, g => Assert.Equal(81559L, g.MemoryTotalMiB));
        var first = report.Gpus[0];
        Assert.Equal("GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab", first.Uuid);
        Assert.Equal("NVIDIA H100 80GB HBM3", first.Name);
        Assert.Equal("550.54.15", first.DriverVersion);
        Assert.Equal(34, first.TemperatureC);
        Assert.Equal(0, first.UtilizationPercent);
        Assert.Equal(1L, first.MemoryUsedMiB);
        var last = report.Gpus[7];
        Assert.Equal(37, last.TemperatureC);
        Assert.Equal(100, last.UtilizationPercent);
        Assert.Equal(80873L, last.MemoryUsedMiB);
    }

    [Fact]
    public void A_box_with_two_models_is_healthy_and_the_summary_counts_each_model()
    {
        const string stdout = """
            0, GPU-0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7, NVIDIA A100-SXM4-40GB, 40960, 535.104.05, 29, 0, 4
            1, GPU-1e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7, NVIDIA A100-SXM4-40GB, 40960, 535.104.05, 30, 12, 10254
            2, GPU-2e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7, NVIDIA A100-SXM4-40GB, 40960, 535.104.05, 28, 0, 4
            3, GPU-3e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7, NVIDIA A100-SXM4-40GB, 40960, 535.104.05, 31, 0, 4
            4, GPU-4e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7, NVIDIA A10, 23028, 535.104.05, 44, 3, 2110
            5, GPU-5e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7, NVIDIA A10, 23028, 535.104.05, 41, 0, 0
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 0);

        Assert.True(report.Healthy);
        Assert.Equal(GpuHealthReasons.GpusHealthy, report.Reason);
        Assert.Equal("6 GPU(s): 4x NVIDIA A100-SXM4-40GB, 2x NVIDIA A10, driver 535.104.05", report.Message);
        Assert.Equal(["NVIDIA A100-SXM4-40GB", "NVIDIA A10"], report.Gpus.Select(g => g.Name).Distinct());
        Assert.Equal(40960L, report.Gpus[0].MemoryTotalMiB);
        Assert.Equal(10254L, report.Gpus[1].MemoryUsedMiB);
        Assert.Equal(23028L, report.Gpus[4].MemoryTotalMiB);
        Assert.Equal(44, report.Gpus[4].TemperatureC);
    }

    [Fact]
    public void Driver_library_mismatch_after_an_unattended_upgrade_is_reported_with_the_nvml_text()
    {
        const string stdout = """
            Failed to initialize NVML: Driver/library version mismatch
            NVML library version: 550.90
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 18);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.DriverLibraryMismatch, report.Reason);
        Assert.Contains("Failed to initialize NVML: Driver/library version mismatch", report.Message);
        Assert.Contains("reboot", report.Message);
        Assert.Empty(report.Gpus);
    }

    [Fact]
    public void Driver_library_mismatch_is_found_on_stderr_too()
    {
        var report = NvidiaSmiParser.Parse("", "Failed to initialize NVML: Driver/library version mismatch\n", 255);

        Assert.Equal(GpuHealthReasons.DriverLibraryMismatch, report.Reason);
    }

    [Fact]
    public void Driver_that_does_not_answer_is_unreachable()
    {
        const string stdout = """
            NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.

            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 9);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.DriverUnreachable, report.Reason);
        Assert.Contains("couldn't communicate with the NVIDIA driver", report.Message);
        Assert.Empty(report.Gpus);
    }

    [Fact]
    public void No_devices_were_found_is_unhealthy()
    {
        var report = NvidiaSmiParser.Parse("No devices were found\n", "", 6);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NoDevicesFound, report.Reason);
        Assert.Contains("No devices were found", report.Message);
    }

    [Fact]
    public void Not_available_and_not_supported_fields_become_null_and_the_gpu_stays_healthy()
    {
        // A GeForce card that reports no utilization, an old one with [Not Supported] and bare N/A,
        // and a MIG-enabled A100 (utilization is per instance, so the whole-GPU value is [N/A]).
        const string stdout = """
            0, GPU-9a8b7c6d-5e4f-3a2b-1c0d-ef0123456789, NVIDIA GeForce RTX 3090, 24576, 535.129.03, 47, [N/A], 345
            1, GPU-8a8b7c6d-5e4f-3a2b-1c0d-ef0123456789, NVIDIA GeForce GTX 1080, 8192, 535.129.03, [Not Supported], N/A, [N/A]
            2, GPU-7a8b7c6d-5e4f-3a2b-1c0d-ef0123456789, NVIDIA A100-SXM4-80GB, 81920, 535.129.03, 31, [N/A], 13
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 0);

        Assert.True(report.Healthy, report.Message);
        Assert.Equal(GpuHealthReasons.GpusHealthy, report.Reason);
        Assert.Null(report.Gpus[0].UtilizationPercent);
        Assert.Equal(47, report.Gpus[0].TemperatureC);
        Assert.Equal(345L, report.Gpus[0].MemoryUsedMiB);
        Assert.Equal(8192L, report.Gpus[1].MemoryTotalMiB);
        Assert.Null(report.Gpus[1].TemperatureC);
        Assert.Null(report.Gpus[1].UtilizationPercent);
        Assert.Null(report.Gpus[1].MemoryUsedMiB);
        Assert.Equal("NVIDIA A100-SXM4-80GB", report.Gpus[2].Name);
        Assert.Null(report.Gpus[2].UtilizationPercent);
        Assert.Equal(13L, report.Gpus[2].MemoryUsedMiB);
    }

    [Fact]
    public void Missing_uuid_and_driver_become_null()
    {
        var report = NvidiaSmiParser.Parse("0, [N/A], NVIDIA T4, 15360, [N/A], 40, 0, 0", "", 0);

        Assert.True(report.Healthy);
        Assert.Null(report.Gpus[0].Uuid);
        Assert.Null(report.Gpus[0].DriverVersion);
        Assert.Equal(15360L, report.Gpus[0].MemoryTotalMiB);
        Assert.Equal("1 GPU(s): 1x NVIDIA T4, driver unknown", report.Message);
    }

    [Fact]
    public void A_lost_gpu_among_others_is_reported_and_the_others_are_kept()
    {
        const string stdout = """
            0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
            1, GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 32, 0, 1
            Unable to determine the device handle for GPU0000:3B:00.0: GPU is lost.  Reboot the system to recover this GPU
            3, GPU-8c3f4d5e-6a7b-4c8d-ae9f-3123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 33, 0, 1
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 15);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.GpuLost, report.Reason);
        Assert.Equal([0, 1, 3], report.Gpus.Select(g => g.Index));
        Assert.Contains("0000:3B:00.0", report.Message);
        Assert.Contains("GPU is lost", report.Message);
    }

    [Fact]
    public void A_device_handle_with_unknown_error_counts_as_a_lost_gpu()
    {
        const string stdout = """
            0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA A100-SXM4-40GB, 40960, 535.104.05, 34, 0, 1
            Unable to determine the device handle for GPU 0000:86:00.0: Unknown Error
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 255);

        Assert.Equal(GpuHealthReasons.GpuLost, report.Reason);
        Assert.Single(report.Gpus);
        Assert.Contains("0000:86:00.0", report.Message);
    }

    [Fact]
    public void A_field_saying_gpu_requires_reset_makes_that_gpu_unhealthy_and_names_it()
    {
        const string stdout = """
            0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
            1, GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, [GPU requires reset], [GPU requires reset], [GPU requires reset]
            2, GPU-7b2e3c4d-5f6a-4b7c-9d8e-2123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, [Unknown Error], 0, 1
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 0);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.GpuRequiresReset, report.Reason);
        Assert.Contains("GPU 1", report.Message);
        Assert.Contains("GPU 2", report.Message);
        Assert.DoesNotContain("GPU 0", report.Message);
        Assert.Equal(3, report.Gpus.Count);
        Assert.Null(report.Gpus[1].TemperatureC);
        Assert.Null(report.Gpus[1].MemoryUsedMiB);
    }

    [Fact]
    public void A_field_saying_unknown_error_makes_that_gpu_unhealthy()
    {
        var report = NvidiaSmiParser.Parse(
            "0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA L40S, 46068, 550.54.15, [Unknown Error], [Unknown Error], 0", "", 0);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.GpuUnknownError, report.Reason);
        Assert.Contains("GPU 0 (NVIDIA L40S)", report.Message);
        Assert.Contains("temperature.gpu", report.Message);
    }

    [Fact]
    public void Different_driver_versions_mean_a_half_applied_upgrade()
    {
        const string stdout = """
            0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
            1, GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.90.07, 32, 0, 1
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 0);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.MixedDriverVersions, report.Reason);
        Assert.Contains("550.54.15", report.Message);
        Assert.Contains("550.90.07", report.Message);
        Assert.Equal(2, report.Gpus.Count);
    }

    [Fact]
    public void Garbage_output_fails_and_quotes_the_line()
    {
        var report = NvidiaSmiParser.Parse("Segmentation fault (core dumped)\nmore noise\n", "", 0);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Contains("Segmentation fault (core dumped)", report.Message);
        Assert.DoesNotContain("more noise", report.Message);
    }

    [Fact]
    public void A_non_numeric_memory_value_makes_the_line_unparseable()
    {
        var report = NvidiaSmiParser.Parse("0, GPU-1, NVIDIA H100 80GB HBM3, 80 GiB, 550.54.15, 34, 0, 1", "", 0);

        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Contains("80 GiB", report.Message);
    }

    [Fact]
    public void A_header_line_is_not_a_gpu_record()
    {
        const string stdout = """
            index, uuid, name, memory.total [MiB], driver_version, temperature.gpu, utilization.gpu [%], memory.used [MiB]
            0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1
            """;

        var report = NvidiaSmiParser.Parse(stdout, "", 0);

        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Contains("index, uuid, name", report.Message);
    }

    [Fact]
    public void A_very_long_line_is_quoted_shortened()
    {
        var noise = new string('z', 5000);

        var report = NvidiaSmiParser.Parse(noise, "", 0);

        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.InRange(report.Message!.Length, 200, 400);
    }

    [Fact]
    public void An_unknown_failure_with_a_non_zero_exit_quotes_the_first_line()
    {
        var report = NvidiaSmiParser.Parse("Failed to initialize NVML: Unknown Error\n", "", 255);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Contains("255", report.Message);
        Assert.Contains("Failed to initialize NVML: Unknown Error", report.Message);
    }

    [Fact]
    public void Valid_lines_with_a_non_zero_exit_are_still_a_failure()
    {
        var report = NvidiaSmiParser.Parse(EightH100, "nvidia-smi: something went wrong\n", 3);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Contains("something went wrong", report.Message);
        Assert.Equal(8, report.Gpus.Count);
    }

    [Fact]
    public void Empty_output_with_success_exit_is_a_failure()
    {
        var report = NvidiaSmiParser.Parse("", "", 0);

        Assert.False(report.Healthy);
        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
    }

    [Fact]
    public void Empty_output_with_failure_exit_says_so()
    {
        var report = NvidiaSmiParser.Parse("", "", 137);

        Assert.Equal(GpuHealthReasons.NvidiaSmiFailed, report.Reason);
        Assert.Equal("nvidia-smi exited with code 137 without output", report.Message);
    }

    [Fact]
    public void Crlf_blank_lines_and_trailing_whitespace_are_tolerated()
    {
        var stdout = "\r\n0, GPU-5f3c1a2e-8b9d-4c1e-a3f2-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 34, 0, 1   \r\n"
            + "\r\n"
            + "1, GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab, NVIDIA H100 80GB HBM3, 81559, 550.54.15, 32, 7, 2048\t\r\n\r\n";

        var report = NvidiaSmiParser.Parse(stdout, "", 0);

        Assert.True(report.Healthy, report.Message);
        Assert.Equal(2, report.Gpus.Count);
        Assert.Equal(2048L, report.Gpus[1].MemoryUsedMiB);
        Assert.Equal(7, report.Gpus[1].UtilizationPercent);
        Assert.Equal("GPU-6a1d2b3c-4e5f-4a6b-8c7d-1123456789ab", report.Gpus[1].Uuid);
    }

    [Fact]
    public void A_name_with_a_comma_still_lines_up_the_other_fields()
    {
        var report = NvidiaSmiParser.Parse("0, GPU-1, NVIDIA Odd, Name, 24576, 535.129.03, 40, 1, 2", "", 0);

        Assert.True(report.Healthy, report.Message);
        Assert.Equal("NVIDIA Odd, Name", report.Gpus[0].Name);
        Assert.Equal(24576L, report.Gpus[0].MemoryTotalMiB);
        Assert.Equal(2L, report.Gpus[0].MemoryUsedMiB);
    }

    [Fact]
    public void Arguments_are_the_documented_query()
    {
        Assert.Equal(
            [
                "--query-gpu=index,uuid,name,memory.total,driver_version,temperature.gpu,utilization.gpu,memory.used",
                "--format=csv,noheader,nounits",
            ],
            NvidiaSmiParser.Arguments);
    }
}
