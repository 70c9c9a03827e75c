using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atoll.Core.Contracts;
using Atoll.Testing;

namespace Atoll.Server.Tests;

public sealed class NodeRegistryTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Registered_node_is_listed_and_described_with_everything_it_reported(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        await host.JoinAsync("gpu-b");
        await host.JoinAsync("gpu-a");

        using var admin = host.Admin();
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/nodes");
        Assert.Equal(["gpu-a", "gpu-b"], list.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("name").GetString()));

        var node = await host.GetNodeAsync("gpu-a");
        Assert.Equal(("lambda", "us-east-1", "iad-1", "gpu_8x_h100_sxm5", "spot"),
            (node.Provider, node.Region, node.Location, node.InstanceType, node.CapacityType));
        Assert.Equal("ml", node.Labels["team"]);
        Assert.Equal(8, node.Gpu.Gpus.Count);
        Assert.Equal(81559, node.Gpu.Gpus[7].MemoryTotalMiB);
        Assert.Equal(new ModelEndpoint("llama", "http://10.0.0.5:8000"), Assert.Single(node.Models));
        Assert.Equal([ConditionTypes.Ready, ConditionTypes.GpuReady], node.Conditions.Select(c => c.Type));
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Deleting_a_node_revokes_its_credential(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var credential = await host.JoinAsync("gpu-1");
        await host.JoinAsync("gpu-2");
        using var admin = host.Admin();

        Assert.Equal(204, (int)(await admin.DeleteAsync("/api/v1/nodes/gpu-1")).StatusCode);
        Assert.Contains("node credential is not valid", await Problem.DetailAsync(await host.HeartbeatAsync(credential, "gpu-1"), 401));
        Assert.Contains("not found", await Problem.DetailAsync(await admin.GetAsync("/api/v1/nodes/gpu-1"), 404));
        Assert.Contains("not found", await Problem.DetailAsync(await admin.DeleteAsync("/api/v1/nodes/gpu-1"), 404));
        Assert.Equal("gpu-2", (await host.GetNodeAsync("gpu-2")).Name);
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task An_agent_whose_registration_answer_was_lost_registers_again_with_its_key(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var token = await host.CreateJoinTokenAsync(uses: 1);
        var request = ServerHost.Registration("gpu-1") with { RegistrationKey = "a6f0c1d2e3b4a5968778695a4b3c2d1e" };
        var first = await (await host.RegisterAsync(token, request)).Content.ReadFromJsonAsync<RegisterNodeResponse>();

        // The agent never saw that answer: it retries with the same token and key, and only the new credential works.
        var retry = await host.RegisterAsync(token, request);
        Assert.True(retry.IsSuccessStatusCode, await retry.Content.ReadAsStringAsync());
        var second = await retry.Content.ReadFromJsonAsync<RegisterNodeResponse>();
        Assert.NotEqual(first!.Credential, second!.Credential);
        Assert.Contains("node credential is not valid", await Problem.DetailAsync(await host.HeartbeatAsync(first.Credential, "gpu-1"), 401));
        Assert.True((await host.HeartbeatAsync(second.Credential, "gpu-1")).IsSuccessStatusCode);

        // Without the key the spent token is refused as before, and a malformed key is a clear 400.
        Assert.Contains("no uses left", await Problem.DetailAsync(
            await host.RegisterAsync(token, request with { RegistrationKey = "f".PadLeft(32, '0') }), 401));
        Assert.Contains("registrationKey must be", await Problem.DetailAsync(
            await host.RegisterAsync(token, request with { RegistrationKey = "short" }), 400));
    }

    [Theory]
    [InlineData("{\"name\": \"Bad_Name\", \"provider\": \"lambda\", \"region\": \"r\", \"capacityType\": \"spot\"}", "node name 'Bad_Name' is invalid")]
    [InlineData("{\"name\": \"n1\", \"provider\": \"lambda\", \"region\": \"r\", \"capacityType\": \"cheap\"}", "capacityType 'cheap' is invalid")]
    [InlineData("{\"name\": \"n1\", \"provider\": \"\", \"region\": \"r\", \"capacityType\": \"spot\"}", "provider is required")]
    [InlineData("{\"name\": \"n1\", \"provider\": \"p\", \"region\": \"r\", \"capacityType\": \"spot\", \"models\": [{\"model\": \"m\", \"url\": \"not a url\"}]}", "invalid URL")]
    [InlineData("{\"name\": \"n1\", \"provider\": \"p\", \"region\": \"r\", \"capacityType\": \"spot\", \"labels\": [1]}", "$.labels")]
    [InlineData("{\"name\": 7}", "$.name")]
    [InlineData("not json", "malformed JSON")]
    public async Task Bad_registrations_get_a_clear_400_and_keep_the_token(string body, string expected)
    {
        await using var host = await ServerHost.StartAsync(Atoll.Testing.StoreEngines.Sqlite);
        var token = await host.CreateJoinTokenAsync();
        using var client = host.Client(token);
        var response = await client.PostAsync("/api/v1/agent/register", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Contains(expected, await Problem.DetailAsync(response, 400));

        // Nothing was consumed or stored: the same token still registers a good node.
        Assert.True((await host.RegisterAsync(token, ServerHost.Registration("n1"))).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Oversize_body_is_refused()
    {
        await using var host = await ServerHost.StartAsync(StoreEngines.Sqlite, o => o.MaxRequestBodyBytes = 1024);
        var token = await host.CreateJoinTokenAsync();
        var labels = Enumerable.Range(0, 100).ToDictionary(i => $"k{i}", i => new string('v', 40));
        var request = ServerHost.Registration("n1") with { Labels = labels };
        var response = await host.RegisterAsync(token, request);
        Assert.Equal(413, (int)response.StatusCode);
    }
}
