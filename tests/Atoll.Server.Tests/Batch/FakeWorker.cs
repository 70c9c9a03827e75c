using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atoll.Core.Batch;
using Atoll.Core.Contracts;

namespace Atoll.Server.Tests.Batch;

/// <summary>
/// A batch worker the test scripts step by step, speaking the lease API as <c>atoll agent</c> does: claim, ranged
/// GET of the signed input URL, PUT of the result to the signed result URL, heartbeat, complete or fail.
/// </summary>
internal sealed class FakeWorker(ServerHost host, string name, string credential)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Name { get; } = name;

    public static async Task<FakeWorker> JoinAsync(ServerHost host, string name) => new(host, name, await host.JoinAsync(name));

    /// <summary>A lease on the given models without waiting, or null when nothing is available (204).</summary>
    public async Task<LeaseGrant?> ClaimAsync(string model = BatchInput.Model)
    {
        using var client = host.Client(credential);
        using var response = await client.PostAsJsonAsync("/api/v1/agent/leases", new LeaseRequest([model], 0), Json);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"claim answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<LeaseGrant>(Json))!;
    }

    public async Task<LeaseGrant> ClaimRequiredAsync(string model = BatchInput.Model) =>
        await ClaimAsync(model) ?? throw new Xunit.Sdk.XunitException($"{Name} found no chunk to lease");

    /// <summary>Reads the chunk's lines through the signed input URL with a Range header, as the agent does.</summary>
    public async Task<List<BatchRequestLine>> ReadChunkAsync(LeaseGrant lease)
    {
        using var client = host.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, Local(lease.InputUrl));
        request.Headers.Range = new RangeHeaderValue(lease.StartOffset, lease.EndOffset - 1);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(lease.EndOffset - lease.StartOffset, bytes.Length);
        var lines = new List<BatchRequestLine>();
        using var stream = new MemoryStream(bytes);
        await foreach (var line in ChunkReader.ReadLines(stream, CancellationToken.None))
        {
            lines.Add(BatchRequestLine.Parse(line));
        }
        Assert.Equal(lease.LineCount, lines.Count);
        return lines;
    }

    /// <summary>The answer this worker gives a line, the same every time: names the worker, so tests can tell whose result was kept.</summary>
    public byte[] Answer(BatchRequestLine line) =>
        BatchResultLine.Success(line.CustomId, 200, $"req-{Name}-{line.CustomId}", Encoding.UTF8.GetBytes(
            JsonSerializer.Serialize(new { id = "chatcmpl-1", choices = new[] { new { message = new { role = "assistant", content = $"{Name} answers {line.CustomId}" } } } })),
            id: $"batch_req_{Name}_{line.CustomId}");

    /// <summary>PUTs the result JSONL to the lease's signed result URL.</summary>
    public async Task PutResultAsync(LeaseGrant lease, IEnumerable<byte[]> lines)
    {
        using var body = new MemoryStream();
        foreach (var line in lines)
        {
            body.Write(line);
            body.WriteByte((byte)'\n');
        }
        using var client = host.Client();
        using var response = await client.PutAsync(Local(lease.ResultUrl), new ByteArrayContent(body.ToArray()));
        Assert.True(response.IsSuccessStatusCode, $"result PUT answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public Task<HttpResponseMessage> CompleteAsync(LeaseGrant lease, int succeeded, int failed = 0) =>
        PostAsync(lease, "complete", new LeaseUpdate(lease.LeaseToken, succeeded, failed));

    public Task<HttpResponseMessage> FailAsync(LeaseGrant lease, string error) =>
        PostAsync(lease, "fail", new LeaseUpdate(lease.LeaseToken, Error: error));

    public async Task<LeaseState> HeartbeatAsync(LeaseGrant lease)
    {
        using var response = await PostAsync(lease, "heartbeat", new LeaseUpdate(lease.LeaseToken));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<LeaseState>(Json))!;
    }

    /// <summary>Reads the chunk, answers every line and uploads the result, without completing the lease.</summary>
    public async Task<List<BatchRequestLine>> WorkAsync(LeaseGrant lease)
    {
        var lines = await ReadChunkAsync(lease);
        await PutResultAsync(lease, lines.Select(Answer));
        return lines;
    }

    /// <summary>Claims, works and completes one chunk; returns the lease.</summary>
    public async Task<LeaseGrant> RunOneChunkAsync()
    {
        var lease = await ClaimRequiredAsync();
        var lines = await WorkAsync(lease);
        using var done = await CompleteAsync(lease, lines.Count);
        Assert.Equal(HttpStatusCode.NoContent, done.StatusCode);
        return lease;
    }

    /// <summary>The server hands out absolute URLs at its public address; the in-memory test server takes the path and query.</summary>
    private static string Local(Uri signed) => signed.PathAndQuery;

    private async Task<HttpResponseMessage> PostAsync(LeaseGrant lease, string action, LeaseUpdate update)
    {
        using var client = host.Client(credential);
        return await client.PostAsJsonAsync($"/api/v1/agent/leases/{lease.BatchId}/{lease.Seq}/{action}", update, Json);
    }
}
