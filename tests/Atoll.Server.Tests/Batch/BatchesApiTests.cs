using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Storage.State;
using Atoll.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Atoll.Server.Tests.Batch;

/// <summary>OpenAI's Batches API: create, validation by the reconciler, retrieve, list, and the requests it refuses.</summary>
public sealed class BatchesApiTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Created_batch_is_validating_and_after_validation_in_progress_with_its_lines_queued_in_chunks(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine, b => b.ChunkLines = 100);
        var fileId = await host.UploadFileAsync(BatchInput.Lines(250));
        var created = host.Time.GetUtcNow();

        using var response = await host.PostBatchAsync(new
        {
            input_file_id = fileId,
            endpoint = "/v1/chat/completions",
            completion_window = "24h",
            metadata = new Dictionary<string, string> { ["team"] = "search", ["run"] = "nightly" },
        });
        var batch = await BatchServer.JsonAsync(response, 200);
        var id = batch.GetProperty("id").GetString()!;
        Assert.StartsWith("batch_", id);
        Assert.Equal("batch", batch.GetProperty("object").GetString());
        Assert.Equal("validating", batch.GetProperty("status").GetString());
        Assert.Equal("/v1/chat/completions", batch.GetProperty("endpoint").GetString());
        Assert.Equal(fileId, batch.GetProperty("input_file_id").GetString());
        Assert.Equal("24h", batch.GetProperty("completion_window").GetString());
        Assert.Equal(created.ToUnixTimeSeconds(), batch.GetProperty("created_at").GetInt64());
        Assert.Equal((created + TimeSpan.FromHours(24)).ToUnixTimeSeconds(), batch.GetProperty("expires_at").GetInt64());
        Assert.Equal("search", batch.GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("output_file_id").ValueKind);
        Assert.Equal(0, batch.Count("total"));

        host.Time.Advance(TimeSpan.FromSeconds(2));
        await host.ReconcileAsync();

        batch = await host.GetBatchAsync(id);
        Assert.Equal("in_progress", batch.GetProperty("status").GetString());
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), batch.GetProperty("in_progress_at").GetInt64());
        Assert.Equal(250, batch.Count("total"));
        Assert.Equal(0, batch.Count("completed"));
        Assert.Equal(0, batch.Count("failed"));
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("errors").ValueKind);
        Assert.Equal("nightly", batch.GetProperty("metadata").GetProperty("run").GetString());
        var chunks = await host.Services.GetRequiredService<IStateStore>().Batches.ListChunksAsync(id, CancellationToken.None);
        Assert.Equal([100, 100, 50], chunks.Select(c => c.LineCount));
        Assert.Equal([1, 101, 201], chunks.Select(c => c.FirstLine));
        Assert.All(chunks, c => Assert.Equal(ChunkStates.Available, c.State));
    }

    public static TheoryData<string, string, string, int, string> BadFiles => new()
    {
        // name, input, expected code, expected line, expected param
        { "malformed line", Join(BatchInput.Line("a"), "{\"custom_id\": \"b\", \"method\": \"POST\"", BatchInput.Line("c")), "invalid_json_line", 2, "" },
        { "duplicate custom_id", Join(BatchInput.Line("a"), BatchInput.Line("b"), BatchInput.Line("a")), "duplicate_custom_id", 3, "custom_id" },
        { "missing custom_id", Join(BatchInput.Line("a"), BatchInput.Line("")), "missing_custom_id", 2, "custom_id" },
        { "mixed models", Join(BatchInput.Line("a"), BatchInput.Line("b"), BatchInput.Line("c", model: "other-model")), "mismatched_model", 3, "body.model" },
        { "wrong url", Join(BatchInput.Line("a"), BatchInput.Line("b", url: "/v1/embeddings")), "mismatched_endpoint", 2, "url" },
        { "not an object", Join("[1, 2]", BatchInput.Line("b")), "invalid_json_line", 1, "" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task Bad_input_file_fails_the_batch_with_line_numbered_errors_and_queues_nothing(
        string name, string input, string code, int line, string param)
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        var fileId = await host.UploadFileAsync(input);
        var id = await host.CreateBatchAsync(fileId);

        await host.ReconcileAsync();

        var batch = await host.GetBatchAsync(id);
        Assert.True(batch.GetProperty("status").GetString() == "failed", $"{name}: {batch}");
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), batch.GetProperty("failed_at").GetInt64());
        var errors = batch.GetProperty("errors");
        Assert.Equal("list", errors.GetProperty("object").GetString());
        var error = Assert.Single(errors.GetProperty("data").EnumerateArray());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(line, error.GetProperty("line").GetInt32());
        Assert.Contains($"line {line}", error.GetProperty("message").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString() ?? "");
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("output_file_id").ValueKind);
        Assert.Empty(await host.Services.GetRequiredService<IStateStore>().Batches.ListChunksAsync(id, CancellationToken.None));
        // The input file the user sent is still there, unchanged.
        Assert.Equal(input, await host.ContentAsync(fileId));
    }

    [Fact]
    public async Task Every_bad_line_of_a_file_is_reported_with_its_number()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        var input = Join(BatchInput.Line("a"), "not json", BatchInput.Line("a"), BatchInput.Line("d", model: "other"), BatchInput.Line("e", url: "/v1/completions"));

        var batch = await host.StartBatchAsync(input);

        Assert.Equal("failed", batch.GetProperty("status").GetString());
        var errors = batch.GetProperty("errors").GetProperty("data").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("code").GetString()));
        Assert.Equal([(2, "invalid_json_line"), (3, "duplicate_custom_id"), (4, "mismatched_model"), (5, "mismatched_endpoint")], errors);
    }

    [Fact]
    public async Task File_over_the_line_limit_fails_the_batch()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite, b => b.MaxLines = 10);

        var batch = await host.StartBatchAsync(BatchInput.Lines(11));

        Assert.Equal("failed", batch.GetProperty("status").GetString());
        var error = batch.GetProperty("errors").GetProperty("data")[0];
        Assert.Equal("too_many_lines", error.GetProperty("code").GetString());
        Assert.Equal(11, error.GetProperty("line").GetInt32());
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Create_refuses_unknown_file_unsupported_endpoint_and_bad_completion_window_and_creates_nothing(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine);
        var fileId = await host.UploadFileAsync(BatchInput.Lines(2));

        using (var unknown = await host.PostBatchAsync(new { input_file_id = "file-does-not-exist", endpoint = "/v1/chat/completions", completion_window = "24h" }))
        {
            var error = await BatchServer.OpenAiErrorAsync(unknown, 400, "input_file_id");
            Assert.Contains("file-does-not-exist", error.GetProperty("message").GetString());
        }
        using (var missing = await host.PostBatchAsync(new { endpoint = "/v1/chat/completions", completion_window = "24h" }))
        {
            await BatchServer.OpenAiErrorAsync(missing, 400, "input_file_id");
        }
        using (var endpoint = await host.PostBatchAsync(new { input_file_id = fileId, endpoint = "/v1/images/generations", completion_window = "24h" }))
        {
            var error = await BatchServer.OpenAiErrorAsync(endpoint, 400, "endpoint");
            Assert.Contains("/v1/chat/completions", error.GetProperty("message").GetString());
        }
        foreach (var window in new[] { "soon", "30d", "-1h" })
        {
            using var bad = await host.PostBatchAsync(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = window });
            await BatchServer.OpenAiErrorAsync(bad, 400, "completion_window");
        }
        using (var admin = host.Admin())
        using (var notJson = await admin.PostAsync("/v1/batches", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")))
        {
            await BatchServer.OpenAiErrorAsync(notJson, 400);
        }

        using var list = await host.Admin().GetAsync("/v1/batches");
        Assert.Empty((await BatchServer.JsonAsync(list, 200)).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Completion_window_accepts_other_durations_up_to_the_maximum()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite, b => b.MaxCompletionWindow = TimeSpan.FromHours(48));
        var fileId = await host.UploadFileAsync(BatchInput.Lines(2));

        var id = await host.CreateBatchAsync(fileId, window: "48h");

        var batch = await host.GetBatchAsync(id);
        Assert.Equal(batch.GetProperty("created_at").GetInt64() + 48 * 3600, batch.GetProperty("expires_at").GetInt64());
        using var tooLong = await host.PostBatchAsync(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "49h" });
        await BatchServer.OpenAiErrorAsync(tooLong, 400, "completion_window");
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task List_pages_newest_first_with_after_and_limit(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine);
        var fileId = await host.UploadFileAsync(BatchInput.Lines(2));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await host.CreateBatchAsync(fileId));
            host.Time.Advance(TimeSpan.FromSeconds(1));
        }
        using var admin = host.Admin();

        var first = await BatchServer.JsonAsync(await admin.GetAsync("/v1/batches?limit=2"), 200);
        Assert.Equal([ids[2], ids[1]], first.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.Equal(ids[2], first.GetProperty("first_id").GetString());
        Assert.Equal(ids[1], first.GetProperty("last_id").GetString());
        Assert.True(first.GetProperty("has_more").GetBoolean());

        var second = await BatchServer.JsonAsync(await admin.GetAsync($"/v1/batches?limit=2&after={ids[1]}"), 200);
        Assert.Equal([ids[0]], second.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.False(second.GetProperty("has_more").GetBoolean());

        var all = await BatchServer.JsonAsync(await admin.GetAsync("/v1/batches"), 200);
        Assert.Equal(3, all.GetProperty("data").GetArrayLength());
        await BatchServer.OpenAiErrorAsync(await admin.GetAsync("/v1/batches?limit=0"), 400, "limit");
        await BatchServer.OpenAiErrorAsync(await admin.GetAsync("/v1/batches?limit=101"), 400, "limit");
    }

    [Fact]
    public async Task Batches_with_the_same_created_at_page_without_loss_or_repeat()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Postgres);
        var fileId = await host.UploadFileAsync(BatchInput.Lines(2));
        var ids = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await host.CreateBatchAsync(fileId)); // same fake instant: the id breaks the tie
        }
        using var admin = host.Admin();
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await BatchServer.JsonAsync(await admin.GetAsync("/v1/batches?limit=2" + (after is null ? "" : $"&after={after}")), 200);
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()!));
            after = page.GetProperty("has_more").GetBoolean() ? page.GetProperty("last_id").GetString() : null;
        }
        while (after is not null && seen.Count < 10);
        Assert.Equal(5, seen.Count);
        Assert.Equal(ids.Order(), seen.Order());
    }

    [Fact]
    public async Task Unknown_batch_id_answers_404_in_openai_shape_and_no_key_answers_401()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        using var admin = host.Admin();
        var error = await BatchServer.OpenAiErrorAsync(await admin.GetAsync("/v1/batches/batch_nope"), 404);
        Assert.Contains("batch_nope", error.GetProperty("message").GetString());
        await BatchServer.OpenAiErrorAsync(await host.CancelAsync("batch_nope"), 404);

        using var anonymous = host.Client();
        await BatchServer.OpenAiErrorAsync(await anonymous.GetAsync("/v1/batches"), 401);
        await BatchServer.OpenAiErrorAsync(await anonymous.PostAsJsonAsync("/v1/batches", new { input_file_id = "x" }), 401);
    }

    private static string Join(params string[] lines) => string.Join('\n', lines) + "\n";
}
