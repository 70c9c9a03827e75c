using System.Text.Json;
using Atoll.Cli.Commands;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Spectre.Console;

namespace Atoll.System.Tests.Cli;

/// <summary>The fleet commands' parsing and rendering, from hand-made API answers (no server needed).</summary>
public sealed class FleetCliTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Cost_total_states_fleet_price_on_demand_price_and_saving()
    {
        var report = new CostReport(
            [
                new CostLine("h100-a", "node-a", "h100", "Initialized", "lambda", "gpu_8x_h100", "us-east-1", "spot", "H100", 8, 13.20m, 32m),
                new CostLine("h100-b", "node-b", "h100", "Initialized", "verda", "8H100.80S", "FIN-01", "spot", "H100", 8, 14m, 33m),
                new CostLine("a100-a", null, "a100", "Launched", "voltagepark", "8xA100", "us-central", "on-demand", "A100", 8, 14m, 33m),
            ],
            [new CostSummary("h100", 2, 16, 27.20m, 65m, 37.80m, 58.15m), new CostSummary("a100", 1, 8, 14m, 33m, 19m, 57.58m)],
            new CostSummary(null, 3, 24, 41.20m, 98m, 56.80m, 57.96m));

        var text = Render(c => CostRendering.Write(c, report));

        Assert.Contains("Fleet: 3 nodes, 24 GPUs, $41.20/h (on-demand $98.00/h, saving $56.80/h = 58%)", text, StringComparison.Ordinal);
        Assert.Contains("$988.80/day, $30,076.00/month", text, StringComparison.Ordinal);
        var a100 = Line(text, "a100-a");
        Assert.Contains("8xA100", a100, StringComparison.Ordinal);
        Assert.Contains("$14.00", a100, StringComparison.Ordinal);
        Assert.Contains("$33.00", a100, StringComparison.Ordinal);
        Assert.Contains("58%", Line(text, "h100 ", startsWith: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Claim_description_lists_every_offer_tried_with_outcome_and_message()
    {
        var claim = new NodeClaim("h100-7xk2p", "h100", ClaimPhases.Launched, Now.AddMinutes(-9), Provider: "verda", ProviderType: "verda",
            InstanceType: "8H100.80S", Region: "FIN-01", CapacityType: "spot", GpuModel: "H100", GpuCount: 8, PricePerHour: 14m,
            InstanceId: "i-42", Attempts:
            [
                new OfferAttempt("lambda:gpu_8x_h100:us-east-1:spot", 13.20m, "InsufficientCapacity", "no capacity in us-east-1", Now.AddMinutes(-9)),
                new OfferAttempt("tensordock:h100:sxm:ams:spot", 13.50m, "Unauthorized", "API key refused (env:TD_KEY)", Now.AddMinutes(-8)),
                new OfferAttempt("verda:8H100.80S:FIN-01:spot", 14m, "Launched", "instance i-42", Now.AddMinutes(-8)),
            ]);

        var text = Render(c => ClaimRendering.Describe(c, claim, Now));

        Assert.Contains("Offers tried: 3, oldest first (2 did not launch)", text, StringComparison.Ordinal);
        var first = Line(text, "1 ", startsWith: true);
        Assert.Contains("lambda", first, StringComparison.Ordinal);
        Assert.Contains("InsufficientCapacity", first, StringComparison.Ordinal);
        Assert.Contains("no capacity in us-east-1", first, StringComparison.Ordinal);
        Assert.Contains("h100:sxm", Line(text, "2 ", startsWith: true), StringComparison.Ordinal);
        Assert.Contains("Launched", Line(text, "3 ", startsWith: true), StringComparison.Ordinal);
    }

    [Fact]
    public void Offers_are_sorted_per_gpu_hour_and_a_provider_with_a_bad_credential_is_named_below()
    {
        var list = new OfferList(
            [
                new Offer("lambda", "lambda", "gpu_1x_h100", "us-east-1", "on-demand", "H100", 1, 80, 26, 200, 2.49m, 2.49m, true),
                new Offer("verda", "verda", "8H100.80S", "FIN-01", "spot", "H100", 8, 80, 176, 1480, 14m, 33m, true),
                new Offer("verda", "verda", "CPU.4V", "FIN-01", "spot", null, 0, 0, 4, 16, 0.0125m, 0.03m, false),
            ],
            [
                new ProviderCatalogView("lambda", "lambda", "Ready", null, 1, Now),
                new ProviderCatalogView("verda", "verda", "Ready", null, 2, Now),
                new ProviderCatalogView("td", "tensordock", "Unauthorized", "401 from TensorDock: check env:TD_KEY", 0, Now),
            ]);

        var text = Render(c => OfferRendering.Write(c, list, limit: 2));
        var rows = CliOutput.Lines(text);

        Assert.StartsWith("PROVIDER", rows[0], StringComparison.Ordinal);
        Assert.Contains("CPU.4V", rows[1], StringComparison.Ordinal);
        Assert.Contains("$0.0125", rows[1], StringComparison.Ordinal);
        Assert.Contains("8H100.80S", rows[2], StringComparison.Ordinal);
        Assert.Contains("$1.75", rows[2], StringComparison.Ordinal);
        Assert.DoesNotContain("gpu_1x_h100", text, StringComparison.Ordinal);
        Assert.Contains("1 more offer(s) not shown", text, StringComparison.Ordinal);
        Assert.Contains("provider td (tensordock): Unauthorized: 401 from TensorDock: check env:TD_KEY", text, StringComparison.Ordinal);
        Assert.DoesNotContain("provider lambda", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Pool_table_shows_shape_and_counts_and_provider_table_hides_credentials()
    {
        var pool = Document(ResourceKinds.GpuPool, "h100",
            new GpuPoolSpec(["lambda", "verda"], new PoolRequirements(["H100"], 8), Min: 3),
            new PoolStatus(3, 1, 1, 0, 1, 13.20m, "1 claim waiting: no offer fits", Now));
        var provider = Document(ResourceKinds.Provider, "lambda",
            new ProviderSpec("lambda", new Dictionary<string, SecretRef> { ["apiKey"] = new(Env: "LAMBDA_KEY") }),
            new ProviderStatus("Unauthorized", "the API key was refused", 0, Now.AddMinutes(-3), 0));

        var pools = Line(Render(c => c.Write(FleetRendering.Pools([pool]))), "h100", startsWith: true);
        var providers = Render(c => c.Write(FleetRendering.Providers([provider], Now)));

        Assert.Matches(@"^h100\s+lambda,verda\s+8xH100\s+3\s+1\s+2\s+\$13\.20\s+1 claim waiting: no offer fits$", pools);
        Assert.Matches(@"^lambda\s+lambda\s+Unauthorized\s+0\s+0\s+3m ago\s+the API key was refused$", Line(providers, "lambda", startsWith: true));
        Assert.DoesNotContain("LAMBDA_KEY", providers, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_validation_error_points_at_the_file_and_document_it_came_from()
    {
        var doc = Document(ResourceKinds.GpuPool, "h100", new GpuPoolSpec(["lambda"]), null);
        var manifests = new[]
        {
            new ApplyCommand.Manifest(Document(ResourceKinds.Provider, "lambda", new ProviderSpec("lambda"), null), "fleet/providers.yaml", 1, 1),
            new ApplyCommand.Manifest(doc, "examples/pools/h100.yaml", 1, 1),
            new ApplyCommand.Manifest(doc with { Metadata = new ResourceMetadata("a100") }, "fleet/all.yaml", 2, 3),
        };

        Assert.Equal("examples/pools/h100.yaml (GpuPool h100): spec.min: must be at most spec.max (2)",
            ApplyCommand.Describe(new ResourceError(1, "GpuPool", "h100", "spec.min", "must be at most spec.max (2)"), manifests));
        Assert.Equal("fleet/all.yaml document 2 (GpuPool a100): spec.providers[0]: no Provider 'nope'",
            ApplyCommand.Describe(new ResourceError(2, null, null, "spec.providers[0]", "no Provider 'nope'"), manifests));
    }

    [Fact]
    public async Task Apply_reports_yaml_errors_by_file_document_and_line_and_sends_nothing()
    {
        using var dir = new TempDirectory("fleet-apply");
        var file = dir.Combine("pools.yaml");
        await File.WriteAllTextAsync(file, "apiVersion: atoll.dev/v1alpha1\nkind: GpuPool\nmetadata: {name: ok}\nspec: {providers: [a]}\n---\nkind: GpuPool\nmetadata: {name: bad}\n");

        // Port 9 (discard) has no Atoll server: a request would fail with "cannot reach", not with the YAML error.
        var result = await AtollCli.RunAsync("apply", "-f", dir.Path, "--server", "http://127.0.0.1:9", "--token", "t");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}: document 2, line 6: apiVersion is required", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", result.StandardError, StringComparison.Ordinal);
        Assert.False(CliOutput.HasStackTrace(result.Output));
    }

    [Fact]
    public void Claim_yaml_keeps_the_offers_tried_and_leaves_out_empty_fields()
    {
        var claim = new NodeClaim("c1", "h100", ClaimPhases.Pending, Now, Attempts: [new OfferAttempt("a:b:c:spot", 1.5m, "QuotaExceeded", "quota: 0", Now)]);

        var yaml = FleetYaml.From(JsonSerializer.SerializeToElement(claim, JsonSerializerOptions.Web));

        Assert.Contains("name: c1\n", yaml, StringComparison.Ordinal);
        Assert.Contains("- offerKey: a:b:c:spot\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  outcome: QuotaExceeded\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  message: 'quota: 0'\n", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("instanceId", yaml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pools", ResourceKinds.GpuPool)]
    [InlineData("gpupools", ResourceKinds.GpuPool)]
    [InlineData("pool", ResourceKinds.GpuPool)]
    [InlineData("Providers", ResourceKinds.Provider)]
    [InlineData("claim", "claims")]
    public void Kind_words_map_to_api_kinds(string word, string kind) => Assert.Equal(kind, GetCommand.Noun(word));

    [Fact]
    public void Offer_filters_become_the_query_of_the_offers_endpoint()
    {
        Assert.Equal("api/v1/offers", OffersCommand.Path(new OffersCommand.Filter()));
        Assert.Equal("api/v1/offers?gpu=H100&count=8&spot=true&provider=my%20lab&region=us-east-1&refresh=true",
            OffersCommand.Path(new OffersCommand.Filter("H100", 8, true, "my lab", "us-east-1", true)));
    }

    private static ResourceDocument Document<TSpec>(string kind, string name, TSpec spec, object? status) =>
        new(ResourceKinds.ApiVersion, kind, new ResourceMetadata(name), JsonSerializer.SerializeToElement(spec, JsonSerializerOptions.Web),
            status is null ? null : JsonSerializer.SerializeToElement(status, JsonSerializerOptions.Web));

    private static string Line(string text, string contains, bool startsWith = false) =>
        CliOutput.Lines(text).First(l => startsWith ? l.StartsWith(contains, StringComparison.Ordinal) : l.Contains(contains, StringComparison.Ordinal));

    private static string Render(Action<IAnsiConsole> write)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 250;
        write(console);
        return writer.ToString();
    }
}
