using Atoll.Core.Resources;

namespace Atoll.Providers.Tests.Lambda;

public sealed class LambdaOfferTests
{
    [Fact]
    public async Task Offers_are_one_per_type_and_region_with_capacity_priced_in_dollars_with_the_gpu_shape()
    {
        await using var h = await LambdaHarness.StartAsync();

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(5, offers.Count);
        var h100 = Assert.Single(offers, o => o.InstanceType == "gpu_8x_h100_sxm5");
        Assert.Equal("us-east-1", h100.Region);
        Assert.Equal(("lambda-test", ProviderTypes.Lambda, "on-demand"), (h100.Provider, h100.ProviderType, h100.CapacityType));
        Assert.Equal(("H100", 8, 80), (h100.GpuModel, h100.GpuCount, h100.GpuMemoryGiB));
        Assert.Equal((208, 1800), (h100.VCpus, h100.MemoryGiB));
        Assert.Equal(23.92m, h100.PricePerHour);
        Assert.Equal(23.92m, h100.OnDemandPricePerHour);
        Assert.True(h100.Available);
        var a10 = offers.Where(o => o.InstanceType == "gpu_1x_a10").ToList();
        Assert.Equal(new[] { "us-east-1", "us-west-1" }, a10.Select(o => o.Region).Order());
        Assert.All(a10, o => Assert.Equal((0.75m, "A10", 1, 24), (o.PricePerHour, o.GpuModel, o.GpuCount, o.GpuMemoryGiB)));
        var gh200 = Assert.Single(offers, o => o.InstanceType == "gpu_1x_gh200");
        Assert.Equal(("GH200", 96), (gh200.GpuModel, gh200.GpuMemoryGiB));
    }

    [Fact]
    public async Task A_region_whose_capacity_ran_out_is_no_longer_offered()
    {
        await using var h = await LambdaHarness.StartAsync();
        h.Lambda.CapacityExhausted("gpu_1x_a10", "us-west-1");

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.DoesNotContain(offers, o => o.InstanceType == "gpu_1x_a10" && o.Region == "us-west-1");
        Assert.Contains(offers, o => o.InstanceType == "gpu_1x_a10" && o.Region == "us-east-1");
        Assert.DoesNotContain(offers, o => o.Region == "us-south-1");
    }

    [Fact]
    public async Task Offers_are_limited_to_the_providers_regions()
    {
        await using var h = await LambdaHarness.StartAsync(regions: ["us-east-1"]);

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(new[] { "gpu_1x_a10", "gpu_8x_h100_sxm5" }, offers.Select(o => o.InstanceType).Order());
        Assert.All(offers, o => Assert.Equal("us-east-1", o.Region));
    }

    [Fact]
    public async Task Gpu_count_comes_from_the_type_name_when_specs_has_no_gpus_field()
    {
        await using var h = await LambdaHarness.StartAsync();
        h.Lambda.OmitGpuSpecs = true;

        var offers = await h.Provider.GetOffersAsync(CancellationToken.None);

        Assert.Equal(8, Assert.Single(offers, o => o.InstanceType == "gpu_8x_h100_sxm5").GpuCount);
        Assert.Equal(1, Assert.Single(offers, o => o.InstanceType == "gpu_1x_gh200").GpuCount);
    }

    [Theory]
    [InlineData("gpu_1x_h100_pcie", "H100")]
    [InlineData("gpu_8x_h100_sxm5", "H100")]
    [InlineData("NVIDIA H100 80GB HBM3", "H100")]
    [InlineData("1H100.80S.30V", "H100")]
    [InlineData("H100 SXM5", "H100")]
    [InlineData("8H200.141S.176V", "H200")]
    [InlineData("gpu_1x_gh200", "GH200")]
    [InlineData("gpu_8x_a100_80gb_sxm4", "A100")]
    [InlineData("1A100.22V", "A100")]
    [InlineData("gpu_1x_a10", "A10")]
    [InlineData("NVIDIA A10G", "A10G")]
    [InlineData("gpu_2x_a6000", "A6000")]
    [InlineData("NVIDIA RTX A6000", "A6000")]
    [InlineData("1L40S.20V", "L40S")]
    [InlineData("NVIDIA L4", "L4")]
    [InlineData("8B200.120V", "B200")]
    [InlineData("NVIDIA GeForce RTX 4090", "RTX4090")]
    [InlineData("8V100.48M", "V100")]
    [InlineData("A40", "A40")]
    [InlineData("cpu_4x_general", null)]
    [InlineData("CPU.4V.16G", null)]
    public void Provider_gpu_strings_map_to_canonical_model_names(string text, string? model) =>
        Assert.Equal(model, GpuNames.Canonical(text));
}
