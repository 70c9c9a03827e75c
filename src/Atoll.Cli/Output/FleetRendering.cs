using System.Text.Json;
using Atoll.Cli.Client;
using Atoll.Core.Resources;
using Spectre.Console;

namespace Atoll.Cli.Output;

/// <summary>Tables of fleet resources (GpuPools, Providers) and the price and GPU formats all fleet commands share.</summary>
internal static class FleetRendering
{
    public static Table Pools(IReadOnlyList<ResourceDocument> pools)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("NAME", "PROVIDERS", "GPU", "DESIRED", "READY", "PENDING", "$/H", "MESSAGE");
        foreach (var doc in pools)
        {
            var spec = Read<GpuPoolSpec>(doc.Spec);
            var status = Read<PoolStatus>(doc.Status);
            table.AddRow(
                Markup.Escape(doc.Metadata.Name),
                Markup.Escape(spec?.Providers is { Count: > 0 } providers ? string.Join(",", providers) : "-"),
                Markup.Escape(PoolGpu(spec?.Requirements)),
                status?.Desired.ToString() ?? "-",
                status is null ? "-" : Count(status.Initialized, status.Desired),
                // Everything on its way to Ready: not launched yet, booting, or joined but not yet healthy.
                status is null ? "-" : (status.Pending + status.Launched + status.Registered).ToString(),
                status is null ? "-" : Usd(status.PricePerHour),
                Markup.Escape(status is null ? "not reconciled yet" : status.Message ?? "-"));
        }
        return table;
    }

    public static Table Providers(IReadOnlyList<ResourceDocument> providers, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("NAME", "TYPE", "STATE", "OFFERS", "INSTANCES", "REFRESHED", "MESSAGE");
        foreach (var doc in providers)
        {
            // Only the type is read from the spec: credential references are for -o yaml, never for the table.
            var type = doc.Spec.ValueKind == JsonValueKind.Object && doc.Spec.TryGetProperty("type", out var t) ? t.GetString() : null;
            var status = Read<ProviderStatus>(doc.Status);
            table.AddRow(
                Markup.Escape(doc.Metadata.Name),
                Markup.Escape(type ?? "-"),
                status is null ? "-" : State(status.State),
                status?.Offers.ToString() ?? "-",
                status?.Instances.ToString() ?? "-",
                status?.RefreshedAt is { } at ? Ages.Since(at, now) + " ago" : "never",
                Markup.Escape(status?.Message ?? "-"));
        }
        return table;
    }

    /// <summary>A provider catalog state, coloured: Ready green, Unknown (not fetched yet) yellow, anything else red.</summary>
    public static string State(string state) => state switch
    {
        "Ready" => "[green]Ready[/]",
        "Unknown" => "[yellow]Unknown[/]",
        _ => $"[red]{Markup.Escape(state)}[/]",
    };

    /// <summary>"$41.20", "$1,234.00"; sub-dime prices keep more digits ("$0.0125") so that cheap CPU offers do not read $0.00.</summary>
    public static string Usd(decimal value) =>
        "$" + value.ToString(value is > 0m and < 0.1m ? "0.00##" : "#,0.00");

    public static string Usd(decimal? value) => value is { } v ? Usd(v) : "-";

    /// <summary>"8xH100", "1xGPU" when the model is unknown, "-" for a CPU machine.</summary>
    public static string Gpu(string? model, int count) =>
        count <= 0 ? "-" : $"{count}x{(string.IsNullOrEmpty(model) ? "GPU" : model)}";

    /// <summary>What a pool asks of each node: "8xH100", "8xH100|H200", "1xany", or "cpu".</summary>
    public static string PoolGpu(PoolRequirements? requirements)
    {
        var r = requirements ?? new PoolRequirements();
        if (r.GpusPerNode <= 0)
        {
            return "cpu";
        }
        return $"{r.GpusPerNode}x{(r.GpuModels is { Count: > 0 } models ? string.Join("|", models) : "any")}";
    }

    /// <summary>A typed view of a spec or status; null when the server sent none.</summary>
    public static T? Read<T>(JsonElement? element) where T : class =>
        element is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } e ? e.Deserialize<T>(AtollApiClient.Json) : null;

    private static string Count(int have, int want) => have >= want ? $"[green]{have}[/]" : $"[yellow]{have}[/]";
}
