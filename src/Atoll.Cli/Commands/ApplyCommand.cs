using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Cli.Output;
using Atoll.Core.Contracts;
using Atoll.Core.Resources;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll apply -f FILE|DIR</c>: declare Providers and GpuPools in YAML and make the server match them.</summary>
internal static class ApplyCommand
{
    /// <summary>One document read from a file: where it came from, so that server errors point back at it.</summary>
    internal sealed record Manifest(ResourceDocument Document, string File, int DocumentNumber, int DocumentsInFile)
    {
        public string Where => DocumentsInFile > 1 ? $"{File} document {DocumentNumber}" : File;
    }

    public static Command Create()
    {
        var files = FilesOption("YAML file or directory of .yaml/.yml files to apply (repeatable; - reads stdin)");
        var recursive = RecursiveOption();
        var prune = new Option<bool>("--prune") { Description = "also delete resources of the apply set that these files no longer declare" };
        var applySet = new Option<string>("--apply-set") { Description = "name of the set of resources these files own (for --prune)", DefaultValueFactory = _ => "default" };
        var dryRun = new Option<bool>("--dry-run") { Description = "validate and show what would change, without changing anything" };
        var output = OutputFormat.CreateOption();
        var command = new Command("apply", """
            Create or update Providers and GpuPools from YAML files, like kubectl apply; the server then keeps the fleet matching them.

            Examples:
              atoll apply -f examples/pools/                      # a local provider and a pool of 2 nodes
              atoll apply -f fleet/ --prune --apply-set prod      # fleet/ owns apply set 'prod': what left it is deleted
              atoll apply -f fleet/ --dry-run
            """)
        { files, recursive, prune, applySet, dryRun, output };
        Actions.Set(command, async (result, ct) =>
        {
            var paths = result.GetValue(files)!;
            var manifests = Load(paths, result.GetValue(recursive));
            RejectDuplicates(manifests);
            if (result.GetValue(prune) && !paths.Any(Directory.Exists))
            {
                await Console.Error.WriteLineAsync(
                    $"warning: --prune deletes every resource of apply set '{result.GetValue(applySet)}' that is not in {string.Join(", ", paths)}").ConfigureAwait(false);
            }
            var dry = result.GetValue(dryRun);
            using var client = ClientSettings.CreateClient(result);
            var request = new ApplyRequest([.. manifests.Select(m => m.Document)], result.GetValue(prune), result.GetValue(applySet)!, dry);
            var applied = await PostAsync(client, request, manifests, ct).ConfigureAwait(false);
            if (result.GetValue(output) == OutputFormat.Json)
            {
                OutputFormat.WriteJson(applied);
                return 0;
            }
            foreach (var r in applied.Results)
            {
                Console.WriteLine($"{r.Kind.ToLowerInvariant()}/{r.Name} {r.Action}{(dry ? " (dry run)" : "")}");
            }
            return 0;
        });
        return command;
    }

    internal static Option<string[]> FilesOption(string description) => new("--filename", "-f")
    {
        Description = description,
        HelpName = "FILE|DIR",
        Required = true,
    };

    internal static Option<bool> RecursiveOption() => new("--recursive", "-R") { Description = "with a directory, also read its subdirectories" };

    /// <summary>
    /// Reads every document of the given files and directories (a directory: its .yaml/.yml files in name order).
    /// YAML errors are printed as "FILE: document N, line L: message" and end the command before anything is sent.
    /// </summary>
    internal static IReadOnlyList<Manifest> Load(IReadOnlyList<string> paths, bool recursive)
    {
        var manifests = new List<Manifest>();
        var errors = new List<string>();
        foreach (var file in paths.SelectMany(p => Files(p, recursive)))
        {
            var source = file == "-" ? "<stdin>" : file;
            var text = Read(file);
            var parsed = ResourceYaml.Parse(text, source);
            errors.AddRange(parsed.Errors.Select(e => e.ToString()));
            var n = 0;
            manifests.AddRange(parsed.Documents.Select(d => new Manifest(d, source, ++n, parsed.Documents.Count)));
        }
        if (errors.Count > 0)
        {
            foreach (var e in errors)
            {
                Console.Error.WriteLine(e);
            }
            throw new CliException($"{errors.Count} error(s) in the YAML; nothing was sent to the server");
        }
        return manifests.Count > 0 ? manifests : throw new CliException($"no resources in {string.Join(", ", paths)}");
    }

    /// <summary>The same resource twice in one apply is ambiguous (which spec wins?): say where both are.</summary>
    private static void RejectDuplicates(IReadOnlyList<Manifest> manifests)
    {
        var twice = manifests.GroupBy(m => (m.Document.Kind, m.Document.Metadata.Name)).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new CliException($"{twice.Key.Kind.ToLowerInvariant()}/{twice.Key.Name} is declared more than once: {string.Join(" and ", twice.Select(m => m.Where))}");
        }
    }

    private static string Read(string file)
    {
        try
        {
            return file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {file}: {e.Message}");
        }
    }

    private static List<string> Files(string path, bool recursive)
    {
        if (path == "-" || File.Exists(path))
        {
            return [path];
        }
        if (!Directory.Exists(path))
        {
            throw new CliException($"{path} does not exist");
        }
        var files = Directory.EnumerateFiles(path, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();
        return files.Count > 0 ? files : throw new CliException($"no .yaml or .yml files in {path}{(recursive ? "" : " (-R reads subdirectories)")}");
    }

    /// <summary>
    /// Its own request rather than <see cref="AtollApiClient"/>: a 400 answer carries one <see cref="ResourceError"/> per
    /// bad field, and each is printed against the file and document it came from.
    /// </summary>
    private static async Task<ApplyResult> PostAsync(AtollApiClient client, ApplyRequest request, IReadOnlyList<Manifest> manifests, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(client.Server.AbsoluteUri.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", client.Token);
        HttpResponseMessage response;
        try
        {
            // Buffered, so that the request has a Content-Length (proxies and small test servers reject chunked bodies).
            using var body = new StringContent(JsonSerializer.Serialize(request, AtollApiClient.Json), Encoding.UTF8, "application/json");
            response = await http.PostAsync("api/v1/resources/apply", body, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException s)
        {
            throw new CliException($"cannot reach the Atoll server at {client.Server} ({s.SocketErrorCode}): start it with `atoll server` or `atoll up`, or set --server/ATOLL_SERVER");
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"request to {client.Server} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"the Atoll server at {client.Server} did not answer within {http.Timeout.TotalSeconds}s");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return JsonSerializer.Deserialize<ApplyResult>(text, AtollApiClient.Json) ?? throw new CliException($"empty answer from {client.Server}");
            }
            var (detail, errors) = Problem(text);
            foreach (var e in errors)
            {
                await Console.Error.WriteLineAsync(Describe(e, manifests)).ConfigureAwait(false);
            }
            var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
            throw new CliException(errors.Count > 0 ? detail is { } d && d.Contains("nothing was applied", StringComparison.Ordinal) ? d : $"{detail ?? status}; nothing was applied" : $"{status}: {detail ?? text.Trim()}");
        }
    }

    /// <summary>"examples/pools/h100.yaml (GpuPool h100): spec.min: must be at most spec.max (2)".</summary>
    internal static string Describe(ResourceError e, IReadOnlyList<Manifest> manifests)
    {
        var manifest = e.Index >= 0 && e.Index < manifests.Count ? manifests[e.Index] : null;
        var kind = e.Kind ?? manifest?.Document.Kind;
        var name = e.Name ?? manifest?.Document.Metadata?.Name;
        var what = string.Join(" ", new[] { kind, name }.Where(s => !string.IsNullOrEmpty(s)));
        var where = manifest is null ? what : what.Length > 0 ? $"{manifest.Where} ({what})" : manifest.Where;
        var path = string.IsNullOrEmpty(e.Path) ? "" : e.Path + ": ";
        return $"{(where.Length > 0 ? where : "request")}: {path}{e.Message}";
    }

    private static (string? Detail, IReadOnlyList<ResourceError> Errors) Problem(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, []);
            }
            var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                : root.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var errors = root.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.Deserialize<List<ResourceError>>(AtollApiClient.Json) ?? []
                : [];
            return (detail, errors);
        }
        catch (JsonException)
        {
            return (null, []);
        }
    }
}
