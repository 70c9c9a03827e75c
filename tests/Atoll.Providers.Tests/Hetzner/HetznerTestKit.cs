using System.Text.Json;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Atoll.Providers.Hetzner;
using Atoll.Providers.Http;
using Atoll.Testing.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Atoll.Providers.Tests.Hetzner;

/// <summary>What the Hetzner tests share: a provider talking to a stand-in, launch requests, a delay-recording clock.</summary>
internal static class HetznerTestKit
{
    public static ProviderHttpOptions Fast => ProviderTestKit.FastRetries;

    public static readonly Dictionary<string, string> InEuros = new() { ["eurToUsd"] = "1" };

    public const string CloudConfig = "#cloud-config\nwrite_files:\n- path: /etc/atoll/join-token\n  content: join-123\nruncmd: [atoll agent]\n";

    public static ProviderSpec Spec(
        IReadOnlyList<string>? regions = null, IReadOnlyList<string>? sshKeys = null, string? image = null, IReadOnlyDictionary<string, string>? settings = null) =>
        new("hetzner", Regions: regions, SshKeys: sshKeys, Image: image, Settings: settings);

    public static HetznerCloudProvider Provider(
        HetznerStandIn standIn, HttpClient http, ProviderSpec? spec, string? apiKey, TimeProvider? time, ProviderHttpOptions? options) =>
        new(new ProviderContext("hz", (spec ?? Spec()) with { BaseUrl = standIn.BaseUrl.ToString() },
            new Dictionary<string, string> { ["apiKey"] = apiKey ?? standIn.ApiKey }, "c1", http, time ?? TimeProvider.System,
            NullLoggerFactory.Instance, options ?? Fast));

    public static async Task<Offer> OfferAsync(HetznerCloudProvider provider, string key) =>
        (await provider.GetOffersAsync(CancellationToken.None)).Single(o => o.Key == key);

    public static Offer OfferFor(string type, string region) =>
        new("hz", "hetzner", type, region, "on-demand", null, 0, 0, 2, 4, 0.0066m, 0.0066m, true);

    public static LaunchRequest Launch(Offer offer, string claim = "claim-1", IReadOnlyDictionary<string, string>? tags = null, string? cloudConfig = null) => new(
        InstanceNames.For("c1", claim),
        offer,
        new BootstrapBundle("#!/bin/bash\natoll agent", cloudConfig ?? CloudConfig,
            [new BootstrapFile("/etc/atoll/join-token", "join-123", "0600")], ["atoll agent"], [], ["agent"]),
        tags ?? new Dictionary<string, string> { ["atoll.dev/claim"] = claim });

    public static string? Text(JsonElement e, string name) => e.GetProperty(name).GetString();

    /// <summary>The system clock, except that every timer's delay is recorded and then fires at once: the test sees the waits the adapter asks for without waiting.</summary>
    public sealed class DelayRecordingTime : TimeProvider
    {
        public System.Collections.Concurrent.ConcurrentQueue<TimeSpan> Delays { get; } = new();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Delays.Enqueue(dueTime);
                dueTime = TimeSpan.Zero;
            }
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}