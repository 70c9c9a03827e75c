using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Core.Tests.Fleet;

public sealed class RegistrationValidatorTests
{
    private static RegisterNodeRequest Valid() =>
        new("gpu-1.iad", "lambda", "us-east-1", null, null, CapacityTypes.OnDemand, null, null, [new ModelEndpoint("m", "http://127.0.0.1:8000")], null);

    [Fact]
    public void A_well_formed_request_is_valid() => Assert.Null(RegistrationValidator.Validate(Valid()));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("GPU-1", "invalid")]
    [InlineData("-gpu", "invalid")]
    [InlineData("gpu_1", "invalid")]
    public void Bad_names_are_refused(string name, string expected) =>
        Assert.Contains(expected, RegistrationValidator.Validate(Valid() with { Name = name }));

    [Fact]
    public void Bad_fields_are_named_in_the_message()
    {
        Assert.Contains("capacityType 'preemptible'", RegistrationValidator.Validate(Valid() with { CapacityType = "preemptible" }));
        Assert.Contains("region is required", RegistrationValidator.Validate(Valid() with { Region = " " }));
        Assert.Contains("label key 'a b'", RegistrationValidator.Validate(Valid() with { Labels = new Dictionary<string, string> { ["a b"] = "c" } }));
        Assert.Contains("invalid URL 'ftp://x'", RegistrationValidator.Validate(Valid() with { Models = [new ModelEndpoint("m", "ftp://x")] }));
    }

    [Theory]
    [InlineData("GPU_Box.1", "gpu-box.1")]
    [InlineData("--", "node")]
    [InlineData("ip-10-0-0-1", "ip-10-0-0-1")]
    public void Host_names_become_valid_node_names(string host, string expected)
    {
        Assert.Equal(expected, NodeNames.FromHostName(host));
        Assert.Null(NodeNames.Validate(NodeNames.FromHostName(host)));
    }
}
