using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Spectre.Console;

namespace Atoll.Cli.Output;

/// <summary>Tables and detail views of nodes.</summary>
internal static class NodeRendering
{
    /// <summary>
    /// The node table. With the gateway's <paramref name="endpoints"/>, MODELS also counts the node's model endpoints
    /// that take no traffic ("2 (1 down)"): a node can be Ready while its model server is not.
    /// </summary>
    public static Table List(IReadOnlyList<NodeView> nodes, DateTimeOffset now, IReadOnlyList<EndpointView>? endpoints = null)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("NAME", "PROVIDER", "REGION", "CAPACITY", "GPUS", "READY", "GPU-READY", "MODELS", "LAST SEEN", "AGE");
        foreach (var n in nodes)
        {
            table.AddRow(
                Markup.Escape(n.Name), Markup.Escape(n.Provider), Markup.Escape(n.Region), Markup.Escape(n.CapacityType),
                Markup.Escape(GpuSummary(n.Gpu)), Status(n.Conditions, ConditionTypes.Ready),
                Status(n.Conditions, ConditionTypes.GpuReady), Models(n, endpoints),
                Ages.Since(n.LastHeartbeatAt, now) + " ago", Ages.Since(n.RegisteredAt, now));
        }
        return table;
    }

    /// <summary>Details of one node; with the gateway's <paramref name="endpoints"/>, each model shows its endpoint state.</summary>
    public static void Describe(IAnsiConsole console, NodeView n, DateTimeOffset now, IReadOnlyList<EndpointView>? endpoints = null)
    {
        var facts = new Grid().AddColumn().AddColumn();
        void Fact(string key, string? value) => facts.AddRow($"[bold]{key}[/]", Markup.Escape(value ?? "-"));
        Fact("Name:", n.Name);
        Fact("Provider:", n.Provider);
        Fact("Region:", n.Region);
        Fact("Location:", n.Location);
        Fact("Instance type:", n.InstanceType);
        Fact("Capacity type:", n.CapacityType);
        Fact("Pool:", n.Pool);
        Fact("Labels:", n.Labels.Count == 0 ? "-" : string.Join(", ", n.Labels.Select(l => $"{l.Key}={l.Value}")));
        Fact("Registered:", $"{n.RegisteredAt:u} ({Ages.Since(n.RegisteredAt, now)} ago)");
        Fact("Last heartbeat:", $"{n.LastHeartbeatAt:u} ({Ages.Since(n.LastHeartbeatAt, now)} ago)");
        Fact("Agent version:", n.AgentVersion);
        console.Write(facts);

        console.WriteLine();
        console.MarkupLine("[bold]Conditions:[/]");
        var conditions = new Table().Border(TableBorder.None).AddColumns("TYPE", "STATUS", "REASON", "MESSAGE", "LAST TRANSITION");
        foreach (var c in n.Conditions)
        {
            conditions.AddRow(Markup.Escape(c.Type), Markup.Escape(c.Status), Markup.Escape(c.Reason), Markup.Escape(c.Message),
                $"{c.LastTransitionTime:u} ({Ages.Since(c.LastTransitionTime, now)} ago)");
        }
        console.Write(conditions);

        console.MarkupLine($"[bold]GPUs:[/] {Markup.Escape(GpuSummary(n.Gpu))}{(n.Gpu.Simulated ? " (simulated)" : "")}");
        if (n.Gpu.Gpus.Count > 0)
        {
            var gpus = new Table().Border(TableBorder.None).AddColumns("INDEX", "NAME", "MEMORY", "USED", "UTIL", "TEMP", "DRIVER", "UUID");
            foreach (var g in n.Gpu.Gpus)
            {
                gpus.AddRow(g.Index.ToString(), Markup.Escape(g.Name), MiB(g.MemoryTotalMiB), MiB(g.MemoryUsedMiB),
                    g.UtilizationPercent is { } u ? $"{u}%" : "n/a", g.TemperatureC is { } t ? $"{t}C" : "n/a",
                    Markup.Escape(g.DriverVersion ?? "n/a"), Markup.Escape(g.Uuid ?? "n/a"));
            }
            console.Write(gpus);
        }

        console.MarkupLine("[bold]Models:[/]" + (n.Models.Count == 0 ? " none" : ""));
        foreach (var m in n.Models)
        {
            var state = endpoints is null ? null : EndpointOf(n.Name, m, endpoints);
            var shown = state is null ? "" : state.State == EndpointStates.Up
                ? $"  {EndpointRendering.State(state.State)}"
                : $"  {EndpointRendering.State(state.State)}: {Markup.Escape(state.Reason ?? "")}";
            console.MarkupLine($"  {Markup.Escape(m.Model)} -> {Markup.Escape(m.Url)}{shown}");
        }
    }

    /// <summary>"8x NVIDIA H100 80GB" or "2x A100 + 1x A10" or "none".</summary>
    public static string GpuSummary(GpuReport gpu) =>
        gpu.Gpus.Count == 0
            ? "none"
            : string.Join(" + ", gpu.Gpus.GroupBy(g => g.Name).Select(g => $"{g.Count()}x {g.Key.Replace("NVIDIA ", "", StringComparison.Ordinal)}"));

    private static string Status(IReadOnlyList<NodeCondition> conditions, string type)
    {
        var c = NodeConditions.Find(conditions, type);
        return c?.Status switch
        {
            ConditionTypes.True => "[green]True[/]",
            ConditionTypes.False => $"[red]False[/] ({Markup.Escape(c.Reason)})",
            ConditionTypes.Unknown => $"[yellow]Unknown[/] ({Markup.Escape(c.Reason)})",
            _ => "-",
        };
    }

    private static string Models(NodeView n, IReadOnlyList<EndpointView>? endpoints)
    {
        if (endpoints is null)
        {
            return n.Models.Count.ToString();
        }
        var down = n.Models.Count(m => EndpointOf(n.Name, m, endpoints) is { } e && e.State != EndpointStates.Up);
        return down == 0 ? n.Models.Count.ToString() : $"{n.Models.Count} [red]({down} down)[/]";
    }

    /// <summary>
    /// The gateway's view of a model a node reports (its <see cref="EndpointView.Url"/> is the base URL the gateway
    /// made of the reported one); null when the gateway has not taken it in yet.
    /// </summary>
    private static EndpointView? EndpointOf(string node, ModelEndpoint model, IReadOnlyList<EndpointView> endpoints)
    {
        var url = ModelEndpoint.BaseUrl(model.Url).ToString();
        return endpoints.FirstOrDefault(e => e.Node == node && e.Model == model.Model && e.Url == url);
    }

    private static string MiB(long? value) => value is { } v ? $"{v} MiB" : "n/a";
}
