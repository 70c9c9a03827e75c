using System.Text;
using Atoll.Testing;

namespace Atoll.Server.Tests.Batch;

/// <summary>OpenAI's Files API: upload, list, get, content and delete, and every way an upload is refused.</summary>
public sealed class FilesApiTests
{
    // CRLF, a UTF-8 BOM-free non-ASCII line and no final newline: the content must come back byte for byte.
    private const string Content = "{\"custom_id\":\"a\"}\r\n{\"text\":\"Grüße aus dem Atoll — 環礁\"}\n{\"last\":true}";

    [Theory]
    [InlineData(StoreEngines.Sqlite, ObjectStores.File)]
    [InlineData(StoreEngines.Postgres, ObjectStores.S3)]
    public async Task Uploaded_file_round_trips_its_bytes_through_list_get_and_content_and_delete_removes_it(string engine, string objects)
    {
        await using var host = await BatchServer.StartAsync(engine, objects: await ObjectsUrlAsync(objects));

        using var uploaded = await host.UploadAsync(Content, filename: "requests.jsonl");
        var file = await BatchServer.JsonAsync(uploaded, 200);
        var id = file.GetProperty("id").GetString()!;
        Assert.StartsWith("file-", id);
        Assert.Equal("file", file.GetProperty("object").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(Content), file.GetProperty("bytes").GetInt64());
        Assert.Equal("requests.jsonl", file.GetProperty("filename").GetString());
        Assert.Equal("batch", file.GetProperty("purpose").GetString());
        Assert.Equal(host.Time.GetUtcNow().ToUnixTimeSeconds(), file.GetProperty("created_at").GetInt64());

        using var admin = host.Admin();
        using (var got = await admin.GetAsync($"/v1/files/{id}"))
        {
            Assert.Equal(file.ToString(), (await BatchServer.JsonAsync(got, 200)).ToString());
        }
        using (var listed = await admin.GetAsync("/v1/files"))
        {
            var list = await BatchServer.JsonAsync(listed, 200);
            Assert.Equal("list", list.GetProperty("object").GetString());
            Assert.Equal(id, Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        }
        using (var content = await admin.GetAsync($"/v1/files/{id}/content"))
        {
            Assert.Equal(200, (int)content.StatusCode);
            Assert.Equal(Encoding.UTF8.GetBytes(Content), await content.Content.ReadAsByteArrayAsync());
        }

        using (var deleted = await admin.DeleteAsync($"/v1/files/{id}"))
        {
            var body = await BatchServer.JsonAsync(deleted, 200);
            Assert.Equal(id, body.GetProperty("id").GetString());
            Assert.True(body.GetProperty("deleted").GetBoolean());
        }
        using (var gone = await admin.GetAsync($"/v1/files/{id}"))
        {
            await BatchServer.OpenAiErrorAsync(gone, 404);
        }
        using (var goneContent = await admin.GetAsync($"/v1/files/{id}/content"))
        {
            await BatchServer.OpenAiErrorAsync(goneContent, 404);
        }
        using (var listed = await admin.GetAsync("/v1/files"))
        {
            Assert.Empty((await BatchServer.JsonAsync(listed, 200)).GetProperty("data").EnumerateArray());
        }
        if (objects == ObjectStores.File)
        {
            Assert.Empty(StoredObjects(host));
        }
    }

    [Fact]
    public async Task Files_list_pages_newest_first_with_after_and_limit()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await host.UploadFileAsync(BatchInput.Lines(1)));
            host.Time.Advance(TimeSpan.FromSeconds(1));
        }
        using var admin = host.Admin();
        var first = await BatchServer.JsonAsync(await admin.GetAsync("/v1/files?limit=2"), 200);
        Assert.Equal([ids[2], ids[1]], first.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        var second = await BatchServer.JsonAsync(await admin.GetAsync($"/v1/files?limit=2&after={ids[1]}"), 200);
        Assert.Equal([ids[0]], second.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.False(second.GetProperty("has_more").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Upload_with_another_purpose_is_refused_naming_purpose_and_stores_nothing(string engine)
    {
        await using var host = await BatchServer.StartAsync(engine);

        using var response = await host.UploadAsync(BatchInput.Lines(2), purpose: "fine-tune");

        var error = await BatchServer.OpenAiErrorAsync(response, 400, "purpose");
        Assert.Contains("fine-tune", error.GetProperty("message").GetString());
        await AssertNoFilesAsync(host);
    }

    [Fact]
    public async Task Upload_without_a_purpose_is_refused_naming_purpose()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);

        using var response = await host.UploadAsync(BatchInput.Lines(2), purpose: null);

        await BatchServer.OpenAiErrorAsync(response, 400, "purpose");
        await AssertNoFilesAsync(host);
    }

    [Fact]
    public async Task Upload_without_a_file_field_is_refused_naming_file()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);

        using var response = await host.UploadAsync(null, purpose: "batch");

        await BatchServer.OpenAiErrorAsync(response, 400, "file");
        await AssertNoFilesAsync(host);
    }

    [Fact]
    public async Task Upload_that_is_not_multipart_is_refused()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        using var admin = host.Admin();

        using var response = await admin.PostAsync("/v1/files", new StringContent(BatchInput.Lines(1), Encoding.UTF8, "application/jsonl"));

        var error = await BatchServer.OpenAiErrorAsync(response, 400);
        Assert.Contains("multipart/form-data", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(StoreEngines.Sqlite, ObjectStores.File)]
    [InlineData(StoreEngines.Postgres, ObjectStores.File)]
    [InlineData(StoreEngines.Sqlite, ObjectStores.S3)]
    public async Task Upload_larger_than_the_limit_answers_413_and_stores_nothing(string engine, string objects)
    {
        await using var host = await BatchServer.StartAsync(engine, b => b.MaxFileBytes = 1000, await ObjectsUrlAsync(objects));
        var small = BatchInput.Lines(2);
        var large = BatchInput.Lines(40);
        Assert.InRange(Encoding.UTF8.GetByteCount(small), 1, 1000);
        Assert.True(Encoding.UTF8.GetByteCount(large) > 1000);

        using var refused = await host.UploadAsync(large);

        var error = await BatchServer.OpenAiErrorAsync(refused, 413, "file");
        Assert.Equal("file_too_large", error.GetProperty("code").GetString());
        await AssertNoFilesAsync(host);
        // The limit is on size alone: a file under it is accepted by the same server.
        await host.UploadFileAsync(small);
    }

    [Fact]
    public async Task Unknown_file_id_answers_404_in_openai_shape_on_every_route()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        using var admin = host.Admin();

        foreach (var request in new[]
        {
            new HttpRequestMessage(HttpMethod.Get, "/v1/files/file-nope"),
            new HttpRequestMessage(HttpMethod.Get, "/v1/files/file-nope/content"),
            new HttpRequestMessage(HttpMethod.Delete, "/v1/files/file-nope"),
        })
        {
            using var response = await admin.SendAsync(request);
            var error = await BatchServer.OpenAiErrorAsync(response, 404);
            Assert.Equal("file_not_found", error.GetProperty("code").GetString());
            Assert.Contains("file-nope", error.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task Files_api_without_a_valid_key_answers_401_and_stores_nothing()
    {
        await using var host = await BatchServer.StartAsync(StoreEngines.Sqlite);
        var id = await host.UploadFileAsync(BatchInput.Lines(1));

        using (var anonymous = await host.UploadAsync(BatchInput.Lines(1), token: null))
        {
            Assert.Equal("invalid_api_key", (await BatchServer.OpenAiErrorAsync(anonymous, 401)).GetProperty("code").GetString());
        }
        using (var wrong = await host.UploadAsync(BatchInput.Lines(1), token: "sk-not-a-key"))
        {
            await BatchServer.OpenAiErrorAsync(wrong, 401);
        }
        using var client = host.Client();
        foreach (var path in new[] { "/v1/files", $"/v1/files/{id}", $"/v1/files/{id}/content" })
        {
            using var response = await client.GetAsync(path);
            await BatchServer.OpenAiErrorAsync(response, 401);
        }
        using (var delete = await client.DeleteAsync($"/v1/files/{id}"))
        {
            await BatchServer.OpenAiErrorAsync(delete, 401);
        }
        // Only the first, authorized upload exists, and it survived the anonymous delete.
        using var admin = host.Admin();
        var list = await BatchServer.JsonAsync(await admin.GetAsync("/v1/files"), 200);
        Assert.Equal(id, Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
    }

    private static async Task<string?> ObjectsUrlAsync(string objects) =>
        objects == ObjectStores.S3 ? S3Url(await ObjectStores.CreateBucketAsync()) : null;

    /// <summary>An s3:// URL for the server under test; it reads AWS credentials from this process's environment.</summary>
    private static string S3Url(string bucket)
    {
        foreach (var (name, value) in ObjectStores.S3Environment)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
        return ObjectStores.S3Url(bucket, "atoll");
    }

    /// <summary>Files of the filesystem object store, finished or half-written.</summary>
    private static IEnumerable<string> StoredObjects(ServerHost host) =>
        new[] { "objects", "objects.tmp" }.Select(d => Path.Combine(host.DataDir, d)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories));

    private static async Task AssertNoFilesAsync(ServerHost host)
    {
        using var admin = host.Admin();
        var list = await BatchServer.JsonAsync(await admin.GetAsync("/v1/files"), 200);
        Assert.Empty(list.GetProperty("data").EnumerateArray());
        Assert.Empty(StoredObjects(host));
    }
}
