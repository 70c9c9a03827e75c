using Atoll.Core.Fleet;
using Spectre.Console;

namespace Atoll.Cli.Output;

/// <summary>Node claims: the list, and one claim with every offer it tried and why each failed.</summary>
internal static class ClaimRendering
{
    public static Table List(IReadOnlyList<NodeClaim> claims, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.None)
            .AddColumns("NAME", "POOL", "PHASE", "PROVIDER", "TYPE", "REGION", "CAPACITY", "$/H", "NODE", "AGE", "REASON");
        foreach (var c in claims)
        {
            table.AddRow(
                Markup.Escape(c.Name), Markup.Escape(c.Pool), Phase(c.Phase), Text(c.Provider), Text(c.InstanceType),
                Text(c.Region), Text(c.CapacityType), FleetRendering.Usd(c.PricePerHour), Text(c.NodeName),
                Ages.Since(c.CreatedAt, now), Text(c.Reason));
        }
        return table;
    }

    public static void Describe(IAnsiConsole console, NodeClaim c, DateTimeOffset now)
    {
        var facts = new Grid().AddColumn().AddColumn();
        void Fact(string key, string? value) => facts.AddRow($"[bold]{key}[/]", Markup.Escape(value ?? "-"));
        void When(string key, DateTimeOffset? at)
        {
            if (at is { } t)
            {
                Fact(key, $"{t:u} ({Ages.Since(t, now)} ago)");
            }
        }
        Fact("Name:", c.Name);
        Fact("Pool:", c.Pool);
        facts.AddRow("[bold]Phase:[/]", Phase(c.Phase));
        Fact("Reason:", c.Reason);
        Fact("Provider:", c.Provider is null ? null : $"{c.Provider} ({c.ProviderType})");
        Fact("Instance type:", c.InstanceType);
        Fact("Region:", c.Region);
        Fact("Capacity type:", c.CapacityType);
        Fact("GPUs:", FleetRendering.Gpu(c.GpuModel, c.GpuCount));
        Fact("Price:", c.PricePerHour is null ? null
            : $"{FleetRendering.Usd(c.PricePerHour)}/h (on-demand {FleetRendering.Usd(c.OnDemandPricePerHour)}/h)");
        Fact("Instance id:", c.InstanceId);
        Fact("Node:", c.NodeName);
        When("Created:", c.CreatedAt);
        When("Launched:", c.LaunchedAt);
        When("Registered:", c.RegisteredAt);
        When("Initialized:", c.InitializedAt);
        When("Terminating:", c.TerminatingAt);
        When("Terminated:", c.TerminatedAt);
        console.Write(facts);

        console.WriteLine();
        var attempts = c.Attempts ?? [];
        if (attempts.Count == 0)
        {
            console.MarkupLine("[bold]Offers tried:[/] none yet");
            return;
        }
        var failed = attempts.Count(a => a.Outcome != "Launched");
        console.MarkupLine($"[bold]Offers tried:[/] {attempts.Count}, oldest first ({failed} did not launch)");
        var table = new Table().Border(TableBorder.None)
            .AddColumns("#", "PROVIDER", "INSTANCE TYPE", "REGION", "CAPACITY", "$/H", "OUTCOME", "MESSAGE", "WHEN");
        var n = 0;
        foreach (var a in attempts)
        {
            var (provider, type, region, capacity) = SplitKey(a.OfferKey);
            table.AddRow(
                (++n).ToString(), Markup.Escape(provider), Markup.Escape(type), Markup.Escape(region), Markup.Escape(capacity),
                FleetRendering.Usd(a.PricePerHour), Outcome(a.Outcome), Markup.Escape(a.Message), Ages.Since(a.At, now) + " ago");
        }
        console.Write(table);
    }

    /// <summary>Splits <c>provider:instanceType:region:capacity</c>; an instance type may itself hold colons.</summary>
    public static (string Provider, string InstanceType, string Region, string Capacity) SplitKey(string key)
    {
        var parts = key.Split(':');
        return parts.Length < 4
            ? (key, "-", "-", "-")
            : (parts[0], string.Join(':', parts[1..^2]), parts[^2], parts[^1]);
    }

    public static string Phase(string phase) => phase switch
    {
        ClaimPhases.Initialized => $"[green]{phase}[/]",
        ClaimPhases.Pending or ClaimPhases.Launched or ClaimPhases.Registered => $"[yellow]{phase}[/]",
        ClaimPhases.Terminating => $"[red]{phase}[/]",
        _ => $"[grey]{Markup.Escape(phase)}[/]",
    };

    private static string Outcome(string outcome) => outcome switch
    {
        "Launched" => "[green]Launched[/]",
        nameof(ProviderErrorReason.InsufficientCapacity) or nameof(ProviderErrorReason.RateLimited)
            or nameof(ProviderErrorReason.Transient) or "RecentlyUnavailable" => $"[yellow]{outcome}[/]",
        _ => $"[red]{Markup.Escape(outcome)}[/]",
    };

    private static string Text(string? value) => Markup.Escape(string.IsNullOrEmpty(value) ? "-" : value);
}
