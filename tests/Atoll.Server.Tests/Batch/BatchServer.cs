using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atoll.Server.Batch;
using Microsoft.Extensions.DependencyInjection;

namespace Atoll.Server.Tests.Batch;

/// <summary>
/// A <see cref="ServerHost"/> set up for batch tests, and the Files/Batches calls they make as an API client (the
/// admin token is accepted as an API key). The reconciler runs when a test says so, not on its own.
/// </summary>
internal static class BatchServer
{
    public static Task<ServerHost> StartAsync(string engine, Action<BatchOptions>? batch = null, string? objects = null) =>
        ServerHost.StartAsync(engine, o =>
        {
            // The hosted reconciler ticks on the fake clock; a year between its passes keeps it from racing the passes
            // a test drives itself (tests advance the clock by a day at most).
            o.Batch.ReconcileInterval = TimeSpan.FromDays(365);
            o.Objects = objects;
            batch?.Invoke(o.Batch);
        });

    /// <summary>One pass of the batch reconciler: validate, sweep expired leases, advance, finalize.</summary>
    public static Task ReconcileAsync(this ServerHost host) =>
        host.Services.GetRequiredService<BatchReconciler>().ReconcileOnceAsync(CancellationToken.None);

    /// <summary>POST /v1/files as multipart/form-data; fields are left out when null.</summary>
    public static async Task<HttpResponseMessage> UploadAsync(this ServerHost host, string? content, string? purpose = "batch",
        string filename = "input.jsonl", string? token = "admin")
    {
        using var client = token == "admin" ? host.Admin() : host.Client(token);
        using var form = new MultipartFormDataContent();
        if (purpose is not null)
        {
            form.Add(new StringContent(purpose), "purpose");
        }
        if (content is not null)
        {
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
            file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
            form.Add(file, "file", filename);
        }
        return await client.PostAsync("/v1/files", form);
    }

    /// <summary>Uploads <paramref name="content"/> with purpose batch and returns the file id.</summary>
    public static async Task<string> UploadFileAsync(this ServerHost host, string content, string filename = "input.jsonl")
    {
        using var response = await host.UploadAsync(content, filename: filename);
        var file = await JsonAsync(response, 200);
        return file.GetProperty("id").GetString()!;
    }

    /// <summary>POST /v1/batches with <paramref name="body"/> as JSON.</summary>
    public static async Task<HttpResponseMessage> PostBatchAsync(this ServerHost host, object body)
    {
        using var admin = host.Admin();
        return await admin.PostAsJsonAsync("/v1/batches", body);
    }

    /// <summary>Creates a batch of <paramref name="fileId"/> on /v1/chat/completions and returns its id.</summary>
    public static async Task<string> CreateBatchAsync(this ServerHost host, string fileId, string window = "24h", object? metadata = null)
    {
        using var response = await host.PostBatchAsync(new
        {
            input_file_id = fileId,
            endpoint = "/v1/chat/completions",
            completion_window = window,
            metadata,
        });
        var batch = await JsonAsync(response, 200);
        Assert.Equal("validating", batch.GetProperty("status").GetString());
        return batch.GetProperty("id").GetString()!;
    }

    /// <summary>Uploads <paramref name="content"/>, creates a batch of it and runs the reconciler once (validation); returns the batch.</summary>
    public static async Task<JsonElement> StartBatchAsync(this ServerHost host, string content, string window = "24h")
    {
        var id = await host.CreateBatchAsync(await host.UploadFileAsync(content), window);
        await host.ReconcileAsync();
        return await host.GetBatchAsync(id);
    }

    public static async Task<JsonElement> GetBatchAsync(this ServerHost host, string id)
    {
        using var admin = host.Admin();
        using var response = await admin.GetAsync($"/v1/batches/{id}");
        return await JsonAsync(response, 200);
    }

    public static async Task<HttpResponseMessage> CancelAsync(this ServerHost host, string id)
    {
        using var admin = host.Admin();
        return await admin.PostAsync($"/v1/batches/{id}/cancel", null);
    }

    /// <summary>GET /v1/files/{id}/content as text.</summary>
    public static async Task<string> ContentAsync(this ServerHost host, string fileId)
    {
        using var admin = host.Admin();
        using var response = await admin.GetAsync($"/v1/files/{fileId}/content");
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The lines of a batch's output or error file as JSON (none when the file id is null).</summary>
    public static async Task<List<JsonElement>> ResultLinesAsync(this ServerHost host, JsonElement batch, string fileIdProperty)
    {
        if (batch.GetProperty(fileIdProperty).GetString() is not { } fileId)
        {
            return [];
        }
        var text = await host.ContentAsync(fileId);
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    /// <summary>Asserts the status code and returns the body as JSON.</summary>
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, int expectedStatus)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expectedStatus == (int)response.StatusCode, $"expected {expectedStatus}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts an error in OpenAI's shape, <c>{"error":{"message","type","param","code"}}</c>, and returns the error object.</summary>
    public static async Task<JsonElement> OpenAiErrorAsync(HttpResponseMessage response, int expectedStatus, string? expectedParam = null)
    {
        var body = await JsonAsync(response, expectedStatus);
        var error = body.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out var param), "the error has no 'param'");
        Assert.True(error.TryGetProperty("code", out _), "the error has no 'code'");
        if (expectedParam is not null)
        {
            Assert.Equal(expectedParam, param.GetString());
        }
        return error;
    }

    public static int Count(this JsonElement batch, string name) => batch.GetProperty("request_counts").GetProperty(name).GetInt32();
}
