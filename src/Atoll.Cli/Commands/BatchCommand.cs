using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Spectre.Console;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll batch create|list|get|cancel|results</c>: OpenAI-compatible batch inference.</summary>
internal static class BatchCommand
{
    private static readonly string[] Finished = ["completed", "failed", "expired", "cancelled"];

    public static Command Create()
    {
        var batch = new Command("batch", "Run batch inference (OpenAI Batch API) across the fleet") { OpenAiApiClient.ApiKeyOption };
        batch.Subcommands.Add(CreateBatch());
        batch.Subcommands.Add(List());
        batch.Subcommands.Add(Get());
        batch.Subcommands.Add(Cancel());
        batch.Subcommands.Add(Results());
        return batch;
    }

    private static Command CreateBatch()
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = "input JSONL: one {custom_id, method, url, body} per line", Required = true };
        var endpoint = new Option<string>("--endpoint") { Description = "endpoint every line targets", DefaultValueFactory = _ => "/v1/chat/completions" };
        var window = new Option<string>("--completion-window") { Description = "time the batch may take", DefaultValueFactory = _ => "24h" };
        var wait = new Option<bool>("--wait") { Description = "show progress until the batch finishes" };
        var command = new Command("create", "Upload an input file and start a batch") { file, endpoint, window, wait };
        Actions.Set(command, async (result, ct) =>
        {
            var input = result.GetValue(file)!;
            if (!input.Exists)
            {
                throw new CliException($"input file {input.FullName} does not exist");
            }
            using var client = OpenAiApiClient.Create(result);
            JsonElement uploaded;
            await using (var stream = input.OpenRead())
            {
                using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };
                var content = new StreamContent(stream);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
                form.Add(content, "file", input.Name);
                uploaded = await client.JsonAsync(HttpMethod.Post, "v1/files", form, ct).ConfigureAwait(false);
            }
            var body = JsonSerializer.Serialize(new
            {
                input_file_id = uploaded.GetProperty("id").GetString(),
                endpoint = result.GetValue(endpoint),
                completion_window = result.GetValue(window),
            });
            var created = await client.JsonAsync(HttpMethod.Post, "v1/batches", new StringContent(body, Encoding.UTF8, "application/json"), ct).ConfigureAwait(false);
            var id = created.GetProperty("id").GetString()!;
            Console.WriteLine(id);
            return result.GetValue(wait) ? await WaitAsync(client, id, ct).ConfigureAwait(false) : 0;
        });
        return command;
    }

    private static Command List()
    {
        var limit = new Option<int>("--limit") { Description = "how many (1-100)", DefaultValueFactory = _ => 20 };
        var output = OutputFormat.CreateOption();
        var command = new Command("list", "List batches, newest first") { limit, output };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = OpenAiApiClient.Create(result);
            var list = await client.JsonAsync(HttpMethod.Get, $"v1/batches?limit={result.GetValue(limit)}", null, ct).ConfigureAwait(false);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(list);
                return 0;
            }
            var table = new Table().Border(TableBorder.None).AddColumns("ID", "STATUS", "ENDPOINT", "TOTAL", "COMPLETED", "FAILED", "AGE");
            foreach (var b in list.GetProperty("data").EnumerateArray())
            {
                var counts = b.GetProperty("request_counts");
                table.AddRow(b.GetProperty("id").GetString()!, b.GetProperty("status").GetString()!, b.GetProperty("endpoint").GetString()!,
                    counts.GetProperty("total").ToString(), counts.GetProperty("completed").ToString(), counts.GetProperty("failed").ToString(),
                    Ages.Since(DateTimeOffset.FromUnixTimeSeconds(b.GetProperty("created_at").GetInt64()), DateTimeOffset.UtcNow));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Get()
    {
        var id = new Argument<string>("id") { Description = "batch id" };
        var command = new Command("get", "Show one batch as JSON (the OpenAI batch object)") { id };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = OpenAiApiClient.Create(result);
            OutputFormat.WriteJson(await client.JsonAsync(HttpMethod.Get, $"v1/batches/{Uri.EscapeDataString(result.GetValue(id)!)}", null, ct).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Cancel()
    {
        var id = new Argument<string>("id") { Description = "batch id" };
        var command = new Command("cancel", "Cancel a batch: finished results are kept, the rest is reported as batch_cancelled") { id };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = OpenAiApiClient.Create(result);
            var batch = await client.JsonAsync(HttpMethod.Post, $"v1/batches/{Uri.EscapeDataString(result.GetValue(id)!)}/cancel", null, ct).ConfigureAwait(false);
            Console.WriteLine($"{batch.GetProperty("id").GetString()} {batch.GetProperty("status").GetString()}");
            return 0;
        });
        return command;
    }

    private static Command Results()
    {
        var id = new Argument<string>("id") { Description = "batch id" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "where to write the output JSONL", Required = true };
        var errors = new Option<FileInfo?>("--errors") { Description = "where to write the error JSONL" };
        var command = new Command("results", "Download a finished batch's output (and error) file") { id, output, errors };
        Actions.Set(command, async (result, ct) =>
        {
            using var client = OpenAiApiClient.Create(result);
            var batch = await client.JsonAsync(HttpMethod.Get, $"v1/batches/{Uri.EscapeDataString(result.GetValue(id)!)}", null, ct).ConfigureAwait(false);
            var status = batch.GetProperty("status").GetString();
            if (!Finished.Contains(status))
            {
                throw new CliException($"batch is still {status}; wait for it with `atoll batch get` or create it with --wait");
            }
            var lines = await DownloadAsync(client, batch.GetProperty("output_file_id"), result.GetValue(output)!, ct).ConfigureAwait(false);
            Console.WriteLine($"{lines} line(s) -> {result.GetValue(output)!.FullName}");
            if (result.GetValue(errors) is { } errorFile)
            {
                var errorLines = await DownloadAsync(client, batch.GetProperty("error_file_id"), errorFile, ct).ConfigureAwait(false);
                Console.WriteLine($"{errorLines} error line(s) -> {errorFile.FullName}");
            }
            return 0;
        });
        return command;
    }

    private static async Task<long> DownloadAsync(OpenAiApiClient client, JsonElement fileId, FileInfo target, CancellationToken ct)
    {
        await using var file = target.Create();
        if (fileId.ValueKind != JsonValueKind.String)
        {
            return 0;
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/files/{fileId.GetString()}/content");
        using var response = await client.SendAsync(request, ct).ConfigureAwait(false);
        await using var content = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[64 * 1024];
        long lines = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
        }
        return lines;
    }

    private static async Task<int> WaitAsync(OpenAiApiClient client, string id, CancellationToken ct)
    {
        JsonElement batch = default;
        async Task<(string Status, int Total, int Done)> PollAsync()
        {
            batch = await client.JsonAsync(HttpMethod.Get, $"v1/batches/{id}", null, ct).ConfigureAwait(false);
            var counts = batch.GetProperty("request_counts");
            return (batch.GetProperty("status").GetString()!, counts.GetProperty("total").GetInt32(),
                counts.GetProperty("completed").GetInt32() + counts.GetProperty("failed").GetInt32());
        }
        if (Console.IsOutputRedirected)
        {
            string? last = null;
            while (true)
            {
                var (status, total, done) = await PollAsync().ConfigureAwait(false);
                var line = $"{id} {status} {done}/{total}";
                if (line != last)
                {
                    Console.Error.WriteLine(line);
                    last = line;
                }
                if (Finished.Contains(status))
                {
                    break;
                }
                await Task.Delay(1000, ct).ConfigureAwait(false);
            }
        }
        else
        {
            await AnsiConsole.Progress().StartAsync(async progress =>
            {
                var task = progress.AddTask(id, maxValue: 1);
                while (true)
                {
                    var (status, total, done) = await PollAsync().ConfigureAwait(false);
                    task.Description = $"{id} {status}";
                    task.MaxValue = Math.Max(1, total);
                    task.Value = done;
                    if (Finished.Contains(status))
                    {
                        return;
                    }
                    await Task.Delay(1000, ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        var final = batch.GetProperty("status").GetString();
        var counts = batch.GetProperty("request_counts");
        Console.Error.WriteLine($"{id} {final}: {counts.GetProperty("completed")} succeeded, {counts.GetProperty("failed")} failed"
            + (final == "completed" ? $"; get them with: atoll batch results {id} -o out.jsonl --errors errors.jsonl" : ""));
        if (final == "failed" && batch.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
        {
            foreach (var e in errors.GetProperty("data").EnumerateArray().Take(10))
            {
                Console.Error.WriteLine($"  line {e.GetProperty("line")}: {e.GetProperty("message").GetString()}");
            }
        }
        return final == "completed" ? 0 : 1;
    }
}
