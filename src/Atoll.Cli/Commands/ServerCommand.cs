using System.CommandLine;
using Atoll.Cli.Hosting;
using Atoll.Core;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Server;
using Atoll.Server.Batch;
using Atoll.Server.Fleet;
using Atoll.Server.Gateway;
using Microsoft.Extensions.Hosting;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll server</c>: the control plane.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { Description = "URL to listen on", DefaultValueFactory = _ => "http://127.0.0.1:7070" };
        var data = new Option<string>("--data") { Description = "data directory (SQLite file, admin.token)", DefaultValueFactory = _ => ServerOptions.DefaultDataDir() };
        var store = new Option<string?>("--store")
        {
            Description = "state store: sqlite (default, in --data) or postgres://user:pass@host:port/db [env: ATOLL_STORE, which keeps the password out of `ps`]",
        };
        var heartbeat = new Option<string>("--heartbeat-interval") { Description = "how often agents heartbeat", DefaultValueFactory = _ => "10s" };
        var timeout = new Option<string?>("--node-timeout") { Description = "a node is not Ready after this long without a heartbeat [default: 3 x heartbeat interval]" };
        var objects = new Option<string?>("--objects")
        {
            Description = "object store for batch files: the filesystem under --data (default) or s3://bucket/prefix?endpoint=URL&region=R "
                + "(credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS credentials file) [env: ATOLL_OBJECTS]",
        };
        var publicUrl = new Option<string?>("--public-url") { Description = "URL nodes reach this server at, for signed URLs [default: --listen]" };
        var leaseDuration = new Option<string>("--lease-duration") { Description = "batch: a chunk returns to the queue this long after its worker's last heartbeat", DefaultValueFactory = _ => "60s" };
        var maxFileMb = new Option<int>("--max-file-mb") { Description = "batch: largest input file accepted by POST /v1/files, in MB", DefaultValueFactory = _ => 200 };
        var maxLines = new Option<int>("--max-batch-lines") { Description = "batch: most request lines in one input file", DefaultValueFactory = _ => 50_000 };
        var endpoints = new Option<string[]>("--endpoint") { Description = "a model endpoint no agent reports, MODEL=URL (repeatable)" };
        var location = new Option<string?>("--location") { Description = "where this server runs; the gateway prefers endpoints there" };
        var firstByte = new Option<string>("--first-byte-timeout") { Description = "gateway: per attempt, wait this long for a model server's answer to begin before trying another (streams: its headers, then --stream-idle-timeout; non-streaming: see --min-tokens-per-second)", DefaultValueFactory = _ => "30s" };
        var minRate = new Option<int>("--min-tokens-per-second") { Description = "gateway: the slowest generation allowed: a non-streaming answer (sent only when complete) may take --first-byte-timeout plus max_tokens at this rate (without max_tokens, up to 5 minutes); a stream, see --stream-timeout", DefaultValueFactory = _ => 10 };
        var streamIdle = new Option<string>("--stream-idle-timeout")
        {
            Description = "gateway: end a stream with an error event when its model server sends nothing for this long",
            DefaultValueFactory = _ => "60s",
        };
        var streamTimeout = new Option<string>("--stream-timeout")
        {
            Description = "gateway: end a stream with an error event when it still runs after this long (with max_tokens: the longer of --first-byte-timeout and --stream-idle-timeout plus max_tokens at --min-tokens-per-second, if less)",
            DefaultValueFactory = _ => "1h",
        };
        var capacity = new Option<int>("--endpoint-capacity") { Description = "gateway: concurrent requests per model endpoint before it counts as busy", DefaultValueFactory = _ => 16 };
        var inlineIo = OnByDefault("--inline-io", "gateway: forwarded requests run on the socket event threads (much less CPU and latency per request); false keeps them on the thread pool");
        var epollUpstream = OnByDefault("--upstream-epoll", "gateway: plain-HTTP connections to model servers run on the gateway's own epoll loops (Linux x86-64; less CPU per request); false keeps them on the runtime's sockets");
        var epollClients = OnByDefault("--client-epoll", "gateway: the server takes client connections on the gateway's own epoll loops instead of Kestrel's socket transport (Linux x86-64; less CPU per request); false keeps Kestrel's");
        var http1Front = OnByDefault("--http1-front", "gateway: plain HTTP/1.1 forwarded requests are served by the gateway's own lean HTTP/1.1 server on the same port; false leaves every request to Kestrel");
        var upstreamIdle = new Option<string>("--upstream-idle-timeout")
        {
            Description = "gateway: close a pooled connection to a model server after this long unused; keep it under the server's keep-alive timeout (vLLM/uvicorn: 5s)",
            DefaultValueFactory = _ => "4s",
        };
        var warm = new Option<int>("--warm-connections")
        {
            Description = "gateway: connections kept open to each model server used in the last 10 minutes, so a request after a quiet spell does not wait for a new connection (a WAN round trip, more with TLS); 0: only on demand",
            DefaultValueFactory = _ => 1,
        };
        var provisioning = OnByDefault("--provisioning", "run the provisioning loop (pools, claims); false only stores resources");
        var reconcile = new Option<string>("--reconcile-interval") { Description = "provisioning: how often pools and claims are reconciled", DefaultValueFactory = _ => "5s" };
        var instancePoll = new Option<string>("--instance-poll-interval") { Description = "provisioning: how often each provider is asked for its instances' state", DefaultValueFactory = _ => "15s" };
        var offerRefresh = new Option<string>("--offer-refresh-interval") { Description = "provisioning: how often each provider's offers are fetched", DefaultValueFactory = _ => "5m" };
        var unavailableTtl = new Option<string>("--unavailable-offer-ttl") { Description = "provisioning: how long an offer that failed for capacity or quota is skipped", DefaultValueFactory = _ => "3m" };
        var orphanSweep = new Option<string>("--orphan-sweep-interval") { Description = "provisioning: how often provider accounts are swept for instances no claim owns", DefaultValueFactory = _ => "2m" };
        var agentUrl = new Option<string?>("--agent-url") { Description = "provisioning: where new VMs download the atoll binary [default: PUBLIC_URL/downloads/atoll]" };
        var command = new Command("server", "Run the control plane: API, node registry, reconcilers and the OpenAI-compatible gateway (/v1)")
        {
            listen, data, store, objects, publicUrl, heartbeat, timeout, endpoints, location, firstByte, minRate, streamIdle, streamTimeout, capacity, inlineIo, epollUpstream, epollClients, http1Front, upstreamIdle, warm, leaseDuration, maxFileMb, maxLines,
            provisioning, reconcile, instancePoll, offerRefresh, unavailableTtl, orphanSweep, agentUrl, ParentWatch.Option,
        };
        Actions.Set(command, async (result, ct) =>
        {
            var options = new ServerOptions
            {
                Listen = result.GetValue(listen)!,
                DataDir = Path.GetFullPath(result.GetValue(data)!),
                Store = result.GetValue(store) ?? Environment.GetEnvironmentVariable("ATOLL_STORE"),
                HeartbeatInterval = Durations.Parse(result.GetValue(heartbeat)!, "--heartbeat-interval"),
                NodeTimeout = result.GetValue(timeout) is { } t ? Durations.Parse(t, "--node-timeout") : null,
                Objects = result.GetValue(objects) ?? Environment.GetEnvironmentVariable("ATOLL_OBJECTS"),
                PublicUrl = result.GetValue(publicUrl),
                Batch = new BatchOptions
                {
                    LeaseDuration = Durations.Parse(result.GetValue(leaseDuration)!, "--lease-duration"),
                    MaxFileBytes = (long)result.GetValue(maxFileMb) * 1024 * 1024,
                    MaxLines = result.GetValue(maxLines),
                },
                Gateway = new GatewayOptions
                {
                    StaticEndpoints = [.. KeyValues.Pairs(result.GetValue(endpoints), "--endpoint", "MODEL=URL").Select(kv => new ModelEndpoint(kv.Key, kv.Value))],
                    Location = result.GetValue(location),
                    FirstByteTimeout = Durations.Parse(result.GetValue(firstByte)!, "--first-byte-timeout"),
                    MinTokensPerSecond = result.GetValue(minRate),
                    StreamIdleTimeout = Durations.Parse(result.GetValue(streamIdle)!, "--stream-idle-timeout"),
                    StreamTimeout = Durations.Parse(result.GetValue(streamTimeout)!, "--stream-timeout"),
                    EndpointCapacity = result.GetValue(capacity),
                    InlineIo = result.GetValue(inlineIo),
                    EpollUpstream = result.GetValue(epollUpstream),
                    EpollClients = result.GetValue(epollClients),
                    Http1Front = result.GetValue(http1Front),
                    UpstreamIdleTimeout = Durations.Parse(result.GetValue(upstreamIdle)!, "--upstream-idle-timeout"),
                    WarmConnections = result.GetValue(warm),
                },
                Fleet = new FleetOptions
                {
                    Enabled = result.GetValue(provisioning),
                    ReconcileInterval = Durations.Parse(result.GetValue(reconcile)!, "--reconcile-interval"),
                    InstancePollInterval = Durations.Parse(result.GetValue(instancePoll)!, "--instance-poll-interval"),
                    OfferRefreshInterval = Durations.Parse(result.GetValue(offerRefresh)!, "--offer-refresh-interval"),
                    UnavailableOfferTtl = Durations.Parse(result.GetValue(unavailableTtl)!, "--unavailable-offer-ttl"),
                    OrphanSweepInterval = Durations.Parse(result.GetValue(orphanSweep)!, "--orphan-sweep-interval"),
                    AgentUrl = result.GetValue(agentUrl),
                },
            };
            if (RegistrationValidator.ValidateModels(options.Gateway.StaticEndpoints) is { } badEndpoint)
            {
                throw new CliException($"invalid --endpoint: {badEndpoint}");
            }
            const string listenHint = "is another atoll server running? choose --listen";
            ListenProbe.ThrowIfInUse(options.Listen, listenHint);
            using var cts = ParentWatch.Link(result, ct);
            await using var app = await AtollServer.BuildAsync(options, ct: cts.Token).ConfigureAwait(false);
            try
            {
                await app.StartAsync(cts.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The background services (the fleet reconciler, the batch workers) started before the web server
                // failed to bind: stop them as a normal shutdown would, so that nothing they launched outlives us.
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await app.StopAsync(grace.Token).ConfigureAwait(false);
                }
                catch (Exception stopping)
                {
                    // Said, not thrown: the start's own error below is the one that tells the user what to fix.
                    await Console.Error.WriteLineAsync($"warning: stopping after the failed start also failed: {stopping.Message}").ConfigureAwait(false);
                }
                if (e is IOException && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliException($"cannot listen on {options.Listen}: address already in use ({listenHint})");
                }
                throw;
            }
            await app.WaitForShutdownAsync(cts.Token).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A switch that is on unless given <c>false</c> (<c>--name false</c>). The help says so: System.CommandLine shows no
    /// value or default for a <see cref="bool"/> option, which reads as a flag that is off.
    /// </summary>
    private static Option<bool> OnByDefault(string name, string description) =>
        new(name) { Description = $"{description} [default: true]", DefaultValueFactory = _ => true };
}
