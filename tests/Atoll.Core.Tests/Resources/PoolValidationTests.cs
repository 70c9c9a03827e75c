using Atoll.Core.Contracts;
using Atoll.Core.Resources;
using static Atoll.Core.Tests.Resources.ResourceTestDocs;

namespace Atoll.Core.Tests.Resources;

public sealed class PoolValidationTests
{
    private static IReadOnlyList<ResourceError> Pool(string extra) => Errors(ResourceKinds.GpuPool, "providers: [lambda]\n" + extra);

    [Theory]
    [InlineData("")]
    [InlineData("requirements: {gpuModels: [H100, h200], gpusPerNode: 8, minGpuMemoryGiB: 80, minVCpus: 64, minMemoryGiB: 512}")]
    [InlineData("requirements: {gpusPerNode: 0}\ncapacityTypes: [on-demand]")]
    [InlineData("capacityTypes: [on-demand, spot]\nregions: [us-east-1]\nmaxPricePerHour: 0.5\nreplicas: 0\nmin: 0\nmax: 0")]
    [InlineData("limits: {maxGpus: 0, maxPricePerHour: 0}\ntimeouts: {launch: 90s, registration: 1h30m, initialization: 2h}")]
    [InlineData("labels: {atoll.dev/tier: gold, team: ''}\ntaints: ['nvidia.com/gpu=true:NoSchedule', 'dedicated:NoExecute', 'a=b:PreferNoSchedule']")]
    [InlineData("bootstrap: {agentUrl: 'https://example.com/atoll', pinNvidiaDriver: false, commands: ['echo hi']}")]
    public void Valid_pools_have_no_errors(string extra) => Assert.Empty(Pool(extra));

    [Fact]
    public void A_pool_without_providers_is_refused()
    {
        Single(Errors(ResourceKinds.GpuPool, "providers: []"), "spec.providers", "no provider allowed");
        Single(Errors(ResourceKinds.GpuPool, "replicas: 1"), "spec.providers", "required");
        Single(Errors(ResourceKinds.GpuPool, "providers: [a, a]"), "spec.providers[1]", "listed twice");
    }

    [Fact]
    public void Unknown_gpu_models_list_the_accepted_ones_and_guess()
    {
        Single(Pool("requirements: {gpuModels: [H100, H100_SXM5]}"), "spec.requirements.gpuModels[1]",
            "unknown GPU model 'H100_SXM5' (did you mean H100?)", "accepted: B200, H200, GH200, H100, A100, L40S");
        Single(Pool("requirements: {gpuModels: [Voodoo5]}"), "spec.requirements.gpuModels[0]", "unknown GPU model 'Voodoo5'; accepted: ");
        Single(Pool("requirements: {gpuModels: [h100, H100]}"), "spec.requirements.gpuModels[1]", "listed twice");
        Single(Pool("requirements: {gpuModels: [H100], gpusPerNode: 0}"), "spec.requirements.gpuModels", "must be empty when gpusPerNode is 0");
    }

    [Theory]
    [InlineData("requirements: {gpusPerNode: 17}", "spec.requirements.gpusPerNode", "must be 0..16 (got 17)")]
    [InlineData("requirements: {gpusPerNode: -1}", "spec.requirements.gpusPerNode", "must be 0..16 (got -1)")]
    [InlineData("requirements: {minGpuMemoryGiB: -1}", "spec.requirements.minGpuMemoryGiB", "must be at least 0 (got -1)")]
    [InlineData("requirements: {minVCpus: -2}", "spec.requirements.minVCpus", "must be at least 0 (got -2)")]
    [InlineData("requirements: {minMemoryGiB: -3}", "spec.requirements.minMemoryGiB", "must be at least 0 (got -3)")]
    [InlineData("capacityTypes: [preemptible]", "spec.capacityTypes[0]", "unknown capacity type 'preemptible'; accepted: spot, on-demand")]
    [InlineData("capacityTypes: [spot, spot]", "spec.capacityTypes[1]", "'spot' is listed twice")]
    [InlineData("capacityTypes: []", "spec.capacityTypes", "at least one of spot, on-demand")]
    [InlineData("replicas: -1", "spec.replicas", "must be at least 0 (got -1)")]
    [InlineData("min: -1", "spec.min", "must be at least 0 (got -1)")]
    [InlineData("max: -1", "spec.max", "must be at least 0 (got -1)")]
    [InlineData("min: 3\nmax: 2", "spec.min", "spec.min (3) is greater than spec.max (2)")]
    [InlineData("maxPricePerHour: 0", "spec.maxPricePerHour", "must be greater than 0")]
    [InlineData("limits: {maxGpus: -8}", "spec.limits.maxGpus", "must be at least 0 (got -8)")]
    [InlineData("limits: {maxPricePerHour: -1.5}", "spec.limits.maxPricePerHour", "must be at least 0 (got -1.5)")]
    [InlineData("timeouts: {launch: soon}", "spec.timeouts.launch", "'soon' is not a duration: use a positive duration such as 90s, 10m")]
    [InlineData("timeouts: {registration: 0s}", "spec.timeouts.registration", "is not a duration")]
    [InlineData("timeouts: {initialization: 10 minutes}", "spec.timeouts.initialization", "is not a duration")]
    [InlineData("taints: [nvidia.com/gpu=true]", "spec.taints[0]", "key=value:Effect (or key:Effect) with Effect NoSchedule, PreferNoSchedule or NoExecute")]
    [InlineData("taints: ['a=b:NoScheduleX']", "spec.taints[0]", "is not a taint")]
    [InlineData("labels: {'a b': c}", "spec.labels[\"a b\"]", "invalid label key")]
    [InlineData("labels: {team: 'x y'}", "spec.labels.team", "invalid label value")]
    [InlineData("regions: [us-east-1, us-east-1]", "spec.regions[1]", "listed twice")]
    [InlineData("bootstrap: {agentUrl: 'file:///atoll'}", "spec.bootstrap.agentUrl", "absolute http(s) URL")]
    public void Each_bad_field_is_named_with_what_is_accepted(string extra, string path, string message) => Single(Pool(extra), path, message);

    [Fact]
    public void The_server_checks_that_providers_exist()
    {
        var doc = Doc(ResourceKinds.GpuPool, "providers: [lambda, x]");
        Single(ResourceValidator.Validate(3, doc, new HashSet<string> { "verda", "lambda" }), "spec.providers[1]", "no Provider named \"x\"; known: lambda, verda");
        var none = ResourceValidator.Validate(3, doc, new HashSet<string>());
        Assert.Equal(["spec.providers[0]", "spec.providers[1]"], none.Select(e => e.Path));
        Assert.Equal("no Provider named \"lambda\"; known: none yet (apply a Provider first)", none[0].Message);
    }

    [Fact]
    public void A_request_may_bring_its_providers_along_but_not_twice()
    {
        var provider = Doc(ResourceKinds.Provider, "type: local", "x");
        var pool = Doc(ResourceKinds.GpuPool, "providers: [lambda, x]");
        Assert.Empty(ResourceValidator.ValidateAll([provider, pool], new HashSet<string> { "lambda" }));
        Assert.Empty(ResourceValidator.ValidateAll([pool]));
        var missing = Assert.Single(ResourceValidator.ValidateAll([pool], new HashSet<string> { "lambda" }));
        Assert.Equal((0, "spec.providers[1]"), (missing.Index, missing.Path));
        var twice = Assert.Single(ResourceValidator.ValidateAll([provider, pool, provider]));
        Assert.Equal((2, "metadata.name", "Provider 'x' is already declared by document 1 of this request"), (twice.Index, twice.Path, twice.Message));
    }
}
