using Atoll.Core.Resources;
using static Atoll.Core.Tests.Resources.ResourceTestDocs;

namespace Atoll.Core.Tests.Resources;

public sealed class ResourceSpecsTests
{
    [Fact]
    public void Unknown_fields_are_rejected_with_their_path_and_the_accepted_fields()
    {
        var errors = Errors(ResourceKinds.GpuPool, "providers: [a]\nrequirements: {gpuModel: H100}\nreplica: 2");
        Assert.Equal(["spec.requirements.gpuModel", "spec.replica"], errors.Select(e => e.Path));
        Assert.Equal("unknown field; accepted: gpuModels, gpusPerNode, minGpuMemoryGiB, minVCpus, minMemoryGiB", errors[0].Message);
        Assert.StartsWith("unknown field; accepted: providers, requirements, regions, capacityTypes, maxPricePerHour, replicas", errors[1].Message);
        Assert.All(errors, e => Assert.Equal(("GpuPool", "main", 3), (e.Kind, e.Name, e.Index)));
    }

    [Fact]
    public void Unknown_fields_deep_in_lists_and_maps_are_found()
    {
        var errors = Errors(ResourceKinds.Provider, "type: ssh\ncredentials: {privateKey: {file: /k, mode: 600}}\nhosts: [{address: a}, {address: b, prot: 22}]");
        Assert.Equal(["spec.credentials.privateKey.mode", "spec.hosts[1].prot"], errors.Select(e => e.Path));
        Assert.Contains("accepted: env, file", errors[0].Message);
    }

    [Theory]
    [InlineData("providers: [a]\nreplicas: '2'", "spec.replicas", "expected a whole number; got the string \"2\"")]
    [InlineData("providers: [a]\nreplicas: 1.5", "spec.replicas", "expected a whole number; got the number 1.5")]
    [InlineData("providers: a", "spec.providers", "expected a list; got the string \"a\"")]
    [InlineData("providers: [a]\nrequirements: [H100]", "spec.requirements", "expected a mapping with fields gpuModels, gpusPerNode")]
    [InlineData("providers: [a]\nlabels: {version: 2}", "spec.labels.version", "expected a string; got the number 2 (quote it)")]
    [InlineData("providers: [a]\nbootstrap: {pinNvidiaDriver: 'no'}", "spec.bootstrap.pinNvidiaDriver", "expected true or false")]
    [InlineData("providers: [a]\nmaxPricePerHour: cheap", "spec.maxPricePerHour", "expected a number")]
    [InlineData("providers: [a, null]", "spec.providers[1]", "must not be null")]
    public void Values_of_the_wrong_type_are_named(string spec, string path, string message) =>
        Single(Errors(ResourceKinds.GpuPool, spec), path, message);

    [Fact]
    public void Required_fields_are_reported()
    {
        Single(Errors(ResourceKinds.Provider, "regions: [a]"), "spec.type", "required");
        Single(Errors(ResourceKinds.Provider, "type: ssh\ncredentials: {privateKey: {file: /k}}\nhosts: [{port: 22}]"), "spec.hosts[0].address", "required");
    }

    [Fact]
    public void Typed_specs_round_trip_through_json()
    {
        var spec = new GpuPoolSpec(["lambda"], new PoolRequirements(["H100"], 8), MaxPricePerHour: 24.5m, Timeouts: new PoolTimeouts(Launch: "5m"));
        var json = ResourceSpecs.ToJson(spec);
        Assert.False(json.TryGetProperty("regions", out _));
        var doc = new ResourceDocument(ResourceKinds.ApiVersion, ResourceKinds.GpuPool, new ResourceMetadata("p"), json);
        var back = ResourceSpecs.Pool(doc);
        Assert.Equal(spec.Providers, back.Providers);
        Assert.Equal((8, 0), (back.Requirements!.GpusPerNode, back.Requirements.MinVCpus));
        Assert.Equal(["H100"], back.Requirements.GpuModels);
        Assert.Equal((24.5m, "5m"), (back.MaxPricePerHour!.Value, back.Timeouts!.Launch));
        Assert.Empty(ResourceValidator.Validate(0, doc));
    }

    [Fact]
    public void Reading_a_bad_spec_throws_with_every_problem()
    {
        var doc = Doc(ResourceKinds.Provider, "typ: lambda");
        var e = Assert.Throws<FormatException>(() => ResourceSpecs.Provider(doc));
        Assert.Contains("spec.typ: unknown field", e.Message);
        Assert.Contains("spec.type: required", e.Message);
    }
}
