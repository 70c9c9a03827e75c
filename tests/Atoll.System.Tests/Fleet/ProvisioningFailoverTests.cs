using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Testing.Processes;
using Atoll.Testing.Providers;

namespace Atoll.System.Tests.Fleet;

/// <summary>
/// The whole provisioning path with real processes: a server, two providers behind their documented APIs (stand-ins
/// over real HTTP), nodes that boot from the bootstrap Atoll rendered and join with the claim's one-time token.
/// </summary>
public sealed class ProvisioningFailoverTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Capacity_failure_at_one_provider_launches_at_the_next_and_a_preempted_spot_node_is_replaced()
    {
        using var dir = new TempDirectory("fleet");
        // Provider A (Verda) sells the cheapest H100, as spot, but has room for one instance only.
        await using var verda = new VerdaStandIn();
        verda.AddType(new VerdaStandInType("1H100.80S.30V", 2.19m, 0.99m, 1, "1x H100 SXM5 80GB", 80, 30, 120), ("FIN-01", 0, 1));
        await verda.StartAsync();
        // Provider B (Lambda) sells H100 on demand only, for more.
        await using var lambda = new LambdaStandIn();
        lambda.AddType(new LambdaStandInType("gpu_1x_h100_pcie", "1x H100 (80 GB PCIe)", 249, 1, 26, 200), ("us-east-1", 5));
        await lambda.StartAsync();

        var port = FreePorts.Next();
        await using var server = AtollCli.Start(
        [
            "server", "--listen", $"http://127.0.0.1:{port}", "--data", dir.Combine("data"), "--heartbeat-interval", "1s",
            "--reconcile-interval", "1s", "--instance-poll-interval", "1s",
        ], new Dictionary<string, string?>
        {
            ["VERDA_ID"] = verda.ClientId, ["VERDA_SECRET"] = verda.ClientSecret, ["LAMBDA_KEY"] = lambda.ApiKey,
        }, dir.Combine("server.log"));
        await RunningServer.WaitReadyAsync(server, port);
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient { BaseAddress = new Uri(url + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(dir.Combine("data", "admin.token"))).Trim());

        await File.WriteAllTextAsync(dir.Combine("fleet.yaml"), $"""
            apiVersion: atoll.dev/v1alpha1
            kind: Provider
            metadata: {"{"}name: verda{"}"}
            spec:
              type: verda
              baseUrl: {verda.BaseUrl}
              credentials:
                clientId: {"{"}env: VERDA_ID{"}"}
                clientSecret: {"{"}env: VERDA_SECRET{"}"}
            ---
            apiVersion: atoll.dev/v1alpha1
            kind: Provider
            metadata: {"{"}name: lambda{"}"}
            spec:
              type: lambda
              baseUrl: {lambda.BaseUrl}
              sshKeys: [atoll]
              credentials:
                apiKey: {"{"}env: LAMBDA_KEY{"}"}
            ---
            apiVersion: atoll.dev/v1alpha1
            kind: GpuPool
            metadata: {"{"}name: h100{"}"}
            spec:
              providers: [verda, lambda]
              requirements: {"{"}gpuModels: [H100], gpusPerNode: 1{"}"}
              capacityTypes: [spot, on-demand]
              replicas: 2
            """);
        var env = new Dictionary<string, string?> { ["ATOLL_SERVER"] = url, ["ATOLL_TOKEN"] = http.DefaultRequestHeaders.Authorization!.Parameter };
        var apply = await AtollCli.RunAsync(env, "apply", "-f", dir.Combine("fleet.yaml"));
        Assert.True(apply.ExitCode == 0, $"atoll apply failed: {apply}");
        Assert.Contains("gpupool/h100 created", apply.StandardOutput, StringComparison.Ordinal);

        await using var vms = new BootedVms(url, dir.Combine("vms"));
        void BootAll()
        {
            foreach (var i in verda.Instances.Where(i => i.Status is not ("offline" or "deleted" or "discontinued")))
            {
                vms.Boot("verda/" + i.Id, i.StartupScript, "1xH100-80GB");
            }
            foreach (var i in lambda.Instances.Where(i => i.Status is not ("terminated" or "terminating")))
            {
                vms.Boot("lambda/" + i.Id, i.UserData, "1xH100-80GB");
            }
        }

        // Both claims end Initialized: one spot at Verda, one on demand at Lambda after Verda ran out.
        JsonElement[] claims = [];
        await Eventually.Until(async () =>
        {
            BootAll();
            claims = await ClaimsAsync(http, all: false);
            return claims.Length == 2 && claims.All(c => c.GetProperty("phase").GetString() == "Initialized");
        }, Timeout, "two Initialized claims", () => string.Join('\n', claims.Select(c => c.ToString())) + "\n" + server.Tail());
        var atVerda = claims.Single(c => c.GetProperty("provider").GetString() == "verda");
        var atLambda = claims.Single(c => c.GetProperty("provider").GetString() == "lambda");
        Assert.Equal("spot", atVerda.GetProperty("capacityType").GetString());
        Assert.Equal("on-demand", atLambda.GetProperty("capacityType").GetString());
        // The Lambda claim says what it tried first and why that failed.
        var attempts = atLambda.GetProperty("attempts").EnumerateArray().Select(a => (Key: a.GetProperty("offerKey").GetString()!, Outcome: a.GetProperty("outcome").GetString()!)).ToList();
        Assert.Contains(attempts, a => a.Key.StartsWith("verda:1H100.80S.30V:FIN-01:spot", StringComparison.Ordinal) && a.Outcome == "InsufficientCapacity");
        Assert.Equal("Launched", attempts[^1].Outcome);
        Assert.StartsWith("lambda:", attempts[^1].Key, StringComparison.Ordinal);

        // Verda takes the spot instance back: the claim ends with that reason and a new node replaces it.
        var preempted = verda.Instances.Single(i => i.Id == atVerda.GetProperty("instanceId").GetString());
        verda.Preempt(preempted.Id);
        await vms.KillAsync("verda/" + preempted.Id);
        var oldName = atVerda.GetProperty("name").GetString();
        await Eventually.Until(async () =>
        {
            BootAll();
            claims = await ClaimsAsync(http, all: false);
            return claims.Length == 2 && claims.All(c => c.GetProperty("phase").GetString() == "Initialized" && c.GetProperty("name").GetString() != oldName);
        }, Timeout, "the preempted node is replaced by a new Initialized claim", () => string.Join('\n', claims.Select(c => c.ToString())) + "\n" + server.Tail());
        var ended = (await ClaimsAsync(http, all: true)).Single(c => c.GetProperty("name").GetString() == oldName);
        Assert.Equal("Terminated", ended.GetProperty("phase").GetString());
        Assert.Contains("preempted", ended.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // What was chosen and why, as a person reads it.
        var get = await AtollCli.RunAsync(env, "get", "claims");
        Assert.True(get.ExitCode == 0, $"atoll get claims failed: {get}");
        Assert.Contains("lambda", get.StandardOutput, StringComparison.Ordinal);
        var cost = await AtollCli.RunAsync(env, "cost", "-o", "json");
        Assert.True(cost.ExitCode == 0, $"atoll cost failed: {cost}");
        using var costJson = JsonDocument.Parse(cost.StandardOutput);
        Assert.Equal(2, costJson.RootElement.GetProperty("total").GetProperty("nodes").GetInt32());
    }

    private static async Task<JsonElement[]> ClaimsAsync(HttpClient http, bool all)
    {
        var list = await http.GetFromJsonAsync<JsonElement>($"api/v1/claims?pool=h100&all={all}");
        return [.. list.GetProperty("items").EnumerateArray()];
    }
}
