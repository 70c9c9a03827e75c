using Atoll.Core.Contracts;
using Spectre.Console;

namespace Atoll.Cli.Output;

/// <summary>The gateway's endpoints as a table, and their states as short markup for other views.</summary>
internal static class EndpointRendering
{
    public static Table List(IReadOnlyList<EndpointView> endpoints, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("NAME", "MODEL", "STATE", "IN-FLIGHT", "QUEUE", "RTT", "LOCATION", "GPU", "REASON");
        foreach (var e in endpoints)
        {
            table.AddRow(
                Markup.Escape(e.Name), Markup.Escape(e.Model), State(e.State), $"{e.InFlight}/{e.Capacity}", Queue(e.Queue, now),
                e.RttMs is { } rtt ? $"{rtt:0.#} ms" : "-", Markup.Escape(e.Location ?? "-"), Markup.Escape(e.Gpu ?? "-"),
                Markup.Escape(e.Reason ?? ""));
        }
        return table;
    }

    /// <summary>The state, coloured: green when it takes traffic, yellow while starting, red otherwise.</summary>
    public static string State(string state) => state switch
    {
        EndpointStates.Up => $"[green]{state}[/]",
        EndpointStates.Starting => $"[yellow]{state}[/]",
        _ => $"[red]{Markup.Escape(state)}[/]",
    };

    /// <summary>"2 waiting, 5 running" as last scraped (with its age when stale), or "-" when the server has no queue metrics.</summary>
    private static string Queue(EndpointQueueView? queue, DateTimeOffset now)
    {
        if (queue is null)
        {
            return "-";
        }
        var text = $"{queue.Waiting} waiting, {queue.Running} running";
        return now - queue.ObservedAt > TimeSpan.FromSeconds(5) ? $"{text} ({Ages.Since(queue.ObservedAt, now)} ago)" : text;
    }
}
