using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Atoll.Storage.State;
using Atoll.Testing;
using Atoll.Testing.Processes;
using Xunit.Abstractions;

namespace Atoll.System.Tests.Batch;

/// <summary>
/// Nothing lost, nothing doubled: a 5,000-line batch on 3 nodes survives one agent and the server being SIGKILLed
/// mid-run, on SQLite with the filesystem object store and on PostgreSQL with S3 (s3rver).
/// </summary>
[Collection(BatchSystemCollection.Name)]
public sealed class BatchCrashTests(ITestOutputHelper log)
{
    private const int Lines = 5000;

    [Theory]
    [InlineData(StoreEngines.Sqlite)]
    [InlineData(StoreEngines.Postgres)]
    public async Task Batch_survives_an_agent_and_the_server_being_killed_and_answers_every_line_exactly_once(string engine)
    {
        var clock = global::System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => log.WriteLine($"{clock.Elapsed.TotalSeconds,6:F1}s {what}");
        using var dir = new TempDirectory("batch-crash");
        await using var database = await TestDatabase.CreateAsync(engine);
        List<string> serverExtra = ["--lease-duration", "3s"];
        var environment = new Dictionary<string, string?>();
        if (engine == StoreEngines.Postgres)
        {
            serverExtra.AddRange(["--store", database.StoreUrl, "--objects", ObjectStores.S3Url(await ObjectStores.CreateBucketAsync(), "atoll")]);
            foreach (var (name, value) in ObjectStores.S3Environment)
            {
                environment[name] = value;
            }
        }
        await using var fleet = await BatchFleet.StartAsync(dir, nodes: 3, ["--ttft", "5", "--itl", "1"], [.. serverExtra], environment);
        var (input, bodies) = BatchFleet.Input(Lines, maxTokens: 6);
        Phase("fleet up");
        var batchId = await fleet.CreateBatchAsync(await fleet.UploadAsync(input));
        Phase($"batch {batchId} created");

        // An agent dies holding a lease: its chunk must come back after the lease runs out and be run elsewhere.
        await fleet.WaitForBatchAsync(batchId, b => Completed(b) >= 300, "has 300 lines done", TimeSpan.FromSeconds(60));
        // A chunk takes about 2 s and the agent's log reaches the test late on a loaded machine, so a kill can land just
        // after the chunk ended: then a second agent is the victim (the third finishes the batch).
        var killedHolding = false;
        var missed = "";
        foreach (var victim in fleet.Agents.Take(2))
        {
            await Eventually.Until(() => HoldsLease(victim), TimeSpan.FromSeconds(20), $"{victim} holds a lease", victim.Tail);
            await BatchFleet.KillAsync(victim);
            killedHolding = HoldsLease(victim);
            if (killedHolding)
            {
                Phase($"agent {victim} killed holding a lease");
                break;
            }
            missed += $"{victim} finished its chunk before the kill landed; its output:\n{victim.Tail()}\n";
            Phase($"agent {victim} killed, but after its chunk ended");
        }
        Assert.True(killedHolding, missed);

        // The server dies mid-run and comes back on the same data, store and port.
        var beforeCrash = await fleet.WaitForBatchAsync(batchId, b => Completed(b) >= 1200, "has 1200 lines done", TimeSpan.FromSeconds(60));
        Assert.Equal("in_progress", beforeCrash.GetProperty("status").GetString());
        Assert.True(Completed(beforeCrash) < Lines - 1000, $"the batch is almost done before the server crash: {beforeCrash}");
        await fleet.KillServerAsync();
        Phase($"server killed at {Completed(beforeCrash)} lines done");
        await fleet.StartServerAsync();
        Phase("server restarted");

        var batch = await fleet.WaitForBatchAsync(batchId, b => b.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled",
            "has finished", TimeSpan.FromSeconds(90));
        Phase($"batch ended {batch.GetProperty("status").GetString()}");
        Assert.True(batch.GetProperty("status").GetString() == "completed", $"batch ended {batch}");

        var output = await fleet.LinesAsync(batch.GetProperty("output_file_id").GetString());
        var errors = await fleet.LinesAsync(batch.GetProperty("error_file_id").GetString());
        var ids = output.Concat(errors).Select(l => l.GetProperty("custom_id").GetString()!).ToList();
        var repeated = ids.GroupBy(i => i).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        Assert.True(repeated.Count == 0, $"custom_ids in the results more than once: {string.Join(", ", repeated)}");
        var missing = bodies.Keys.Except(ids).Take(10).ToList();
        Assert.True(missing.Count == 0, $"custom_ids with no result line: {string.Join(", ", missing)}");
        Assert.Equal(Lines, ids.Count);
        var counts = batch.GetProperty("request_counts");
        Assert.Equal(Lines, counts.GetProperty("total").GetInt32());
        Assert.Equal(output.Count, counts.GetProperty("completed").GetInt32());
        Assert.Equal(errors.Count, counts.GetProperty("failed").GetInt32());
        // Workers retry what crashed, so every request got its answer in the end.
        Assert.True(errors.Count == 0, $"{errors.Count} lines failed, first: {errors.FirstOrDefault()}");

        await AssertAnswersAreTheSimsAsync(fleet, output, bodies);
        await AssertSomeChunkRanAgainAsync(database, engine, fleet, batchId);
        Phase("results checked");
    }

    /// <summary>For a sample of lines, the output body is what a sim answers for that input (the sim is deterministic).</summary>
    private static async Task AssertAnswersAreTheSimsAsync(BatchFleet fleet, List<JsonElement> output, Dictionary<string, string> bodies)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var sample = output.Where((_, i) => i % (output.Count / 20) == 0).Take(20).ToList();
        Assert.Equal(20, sample.Count);
        foreach (var line in sample)
        {
            var customId = line.GetProperty("custom_id").GetString()!;
            var response = line.GetProperty("response");
            Assert.Equal(200, response.GetProperty("status_code").GetInt32());
            var batchContent = Content(response.GetProperty("body"));
            using var direct = await http.PostAsync(new Uri(fleet.Sims[1].Url + "/v1/chat/completions"),
                new StringContent(bodies[customId], Encoding.UTF8, new MediaTypeHeaderValue("application/json")));
            direct.EnsureSuccessStatusCode();
            using var doc = JsonDocument.Parse(await direct.Content.ReadAsStringAsync());
            Assert.Equal(Content(doc.RootElement), batchContent);
        }
    }

    /// <summary>The crash really cost a lease: some chunk was leased more than once, and every chunk ended done.</summary>
    private static async Task AssertSomeChunkRanAgainAsync(TestDatabase database, string engine, BatchFleet fleet, string batchId)
    {
        await using var store = StateStoreFactory.Open(engine == StoreEngines.Postgres ? database.StoreUrl : null, fleet.DataDir);
        var chunks = await store.Batches.ListChunksAsync(batchId, CancellationToken.None);
        Assert.Equal((Lines + 127) / 128, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(ChunkStates.Done, c.State));
        Assert.Contains(chunks, c => c.Attempt > 1);
    }

    private static string Content(JsonElement completion) =>
        completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    private static int Completed(JsonElement batch) => batch.GetProperty("request_counts").GetProperty("completed").GetInt32();

    /// <summary>The agent logged a lease it has not finished (each lease logs "Leased chunk", each success "Chunk … done").</summary>
    private static bool HoldsLease(AtollProcess agent)
    {
        var output = agent.Output;
        return Count(output, "Leased chunk ") > Count(output, " done: ");
    }

    private static int Count(string text, string fragment)
    {
        var count = 0;
        for (var at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + fragment.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
