using Atoll.Core.Fleet;

namespace Atoll.Core.Tests.Fleet;

public sealed class GpuModelsTests
{
    [Theory]
    [InlineData("gpu_1x_h100_pcie", "H100")]
    [InlineData("gpu_8x_h100_sxm5", "H100")]
    [InlineData("NVIDIA H100 80GB HBM3", "H100")]
    [InlineData("H100_SXM5", "H100")]
    [InlineData("1H100.80S.30V", "H100")]
    [InlineData("h100", "H100")]
    [InlineData("h100-sxm5-80gb", "H100")]
    [InlineData("8A100.176V", "A100")]
    [InlineData("gpu_8x_a100_80gb_sxm4", "A100")]
    [InlineData("gpu_1x_a10", "A10")]
    [InlineData("NVIDIA A10G", "A10G")]
    [InlineData("gpu_1x_gh200", "GH200")]
    [InlineData("NVIDIA H200 141GB", "H200")]
    [InlineData("B200 SXM6", "B200")]
    [InlineData("L40S", "L40S")]
    [InlineData("l40-pcie-48gb", "L40")]
    [InlineData("NVIDIA L4", "L4")]
    [InlineData("NVIDIA RTX 6000 Ada Generation", "RTX6000Ada")]
    [InlineData("rtx6000ada-pcie-48gb", "RTX6000Ada")]
    [InlineData("RTX A6000", "A6000")]
    [InlineData("rtxa6000-pcie-48gb", "A6000")]
    [InlineData("gpu_1x_a6000", "A6000")]
    [InlineData("NVIDIA GeForce RTX 4090", "RTX4090")]
    [InlineData("geforcertx4090-pcie-24gb", "RTX4090")]
    [InlineData("RTX 3090", "RTX3090")]
    [InlineData("Tesla V100-SXM2-16GB", "V100")]
    [InlineData("Tesla T4", "T4")]
    [InlineData("RTX A5000", "A5000")]
    [InlineData("NVIDIA RTX A4000", "A4000")]
    [InlineData("4A40.16V", "A40")]
    public void Provider_spellings_map_to_the_canonical_name(string raw, string expected) =>
        Assert.Equal(expected, GpuModels.Normalize(raw));

    [Theory]
    [InlineData("cx22")]
    [InlineData("cpx41")]
    [InlineData("CPU.4V.16G")]
    [InlineData("Quadro RTX 6000")]
    [InlineData("MI300X")]
    [InlineData("")]
    [InlineData("A1000")]
    public void Strings_without_a_known_gpu_map_to_null(string raw) => Assert.Null(GpuModels.Normalize(raw));

    [Fact]
    public void Every_canonical_name_is_known_normalizes_to_itself_and_has_memory()
    {
        Assert.Equal(GpuModels.All.Count, GpuModels.All.Distinct().Count());
        foreach (var model in GpuModels.All)
        {
            Assert.True(GpuModels.IsKnown(model));
            Assert.True(GpuModels.IsKnown(model.ToLowerInvariant()));
            Assert.Equal(model, GpuModels.Normalize(model));
            Assert.True(GpuModels.MemoryGiB(model) >= 16, model);
        }
    }

    [Fact]
    public void Memory_is_per_gpu_and_unknown_models_have_none()
    {
        Assert.Equal(80, GpuModels.MemoryGiB("H100"));
        Assert.Equal(141, GpuModels.MemoryGiB("h200"));
        Assert.Equal(48, GpuModels.MemoryGiB("L40S"));
        Assert.Equal(0, GpuModels.MemoryGiB("H100_SXM5"));
        Assert.False(GpuModels.IsKnown("H100_SXM5"));
        Assert.False(GpuModels.IsKnown(null));
    }
}
