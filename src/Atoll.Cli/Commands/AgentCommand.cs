using System.CommandLine;
using Atoll.Agent;
using Atoll.Cli.Hosting;
using Atoll.Core;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using Atoll.Core.Health;
using Microsoft.Extensions.Logging;

namespace Atoll.Cli.Commands;

/// <summary><c>atoll agent</c>: joins this machine to the fleet and reports on it.</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "control plane URL", Required = true };
        var joinToken = new Option<string?>("--join-token") { Description = "one-time join token (needed only on first start) [env: ATOLL_JOIN_TOKEN]" };
        var name = new Option<string>("--name") { Description = "node name", DefaultValueFactory = _ => NodeNames.FromHostName(Environment.MachineName) };
        var provider = new Option<string>("--provider") { Description = "provider this machine is rented from (lambda, verda, hetzner, ssh, local, ...)", DefaultValueFactory = _ => "local" };
        var region = new Option<string>("--region") { Description = "provider region", DefaultValueFactory = _ => "local" };
        var location = new Option<string?>("--location") { Description = "site or data centre, for topology-aware routing" };
        var instanceType = new Option<string?>("--instance-type") { Description = "provider instance type, e.g. gpu_8x_h100_sxm5" };
        var capacity = new Option<string>("--capacity-type") { Description = "spot or on-demand", DefaultValueFactory = _ => CapacityTypes.OnDemand };
        capacity.AcceptOnlyFromAmong(CapacityTypes.Spot, CapacityTypes.OnDemand);
        var labels = new Option<string[]>("--label") { Description = "node label KEY=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var gpus = new Option<string?>("--gpus") { Description = "declare simulated GPUs instead of asking nvidia-smi, e.g. 2xH100-80GB or 0" };
        var models = new Option<string[]>("--model") { Description = "model endpoint served here, NAME=URL (repeatable)" };
        var state = new Option<string>("--state") { Description = "directory keeping the node credential", DefaultValueFactory = _ => AgentOptions.DefaultStateDir() };
        var nvidiaSmi = new Option<string>("--nvidia-smi") { Description = "path of nvidia-smi", DefaultValueFactory = _ => "nvidia-smi" };
        var heartbeat = new Option<string?>("--heartbeat-interval") { Description = "override the interval the server asks for" };
        var batchConcurrency = new Option<int>("--batch-concurrency") { Description = "batch requests sent to a local model server at once", DefaultValueFactory = _ => 8 };
        batchConcurrency.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) { r.AddError("--batch-concurrency must be at least 1"); } });
        var batchYieldAbove = new Option<int>("--batch-yield-above") { Description = "pause batch work while a local model server has more interactive requests than this (0: never)", DefaultValueFactory = _ => 4 };
        batchYieldAbove.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) { r.AddError("--batch-yield-above must be 0 (never pause) or more"); } });
        var noBatch = new Option<bool>("--no-batch") { Description = "do not run batch work on this node's models" };
        var command = new Command("agent", "Join this machine to a fleet and report its GPUs, health and model endpoints")
        {
            server, joinToken, name, provider, region, location, instanceType, capacity, labels, gpus, models, state, nvidiaSmi, heartbeat,
            batchConcurrency, batchYieldAbove, noBatch, ParentWatch.Option,
        };
        Actions.Set(command, async (result, ct) =>
        {
            if (!Uri.TryCreate(result.GetValue(server), UriKind.Absolute, out var serverUri) || (serverUri.Scheme != "http" && serverUri.Scheme != "https"))
            {
                throw new CliException($"invalid --server '{result.GetValue(server)}': expected e.g. http://10.0.0.1:7070", AgentExitCodes.Config);
            }
            var nodeName = result.GetValue(name)!;
            if (NodeNames.Validate(nodeName) is { } badName)
            {
                throw new CliException($"invalid --name: {badName}", AgentExitCodes.Config);
            }
            var options = new AgentOptions
            {
                Server = serverUri,
                JoinToken = result.GetValue(joinToken) ?? Environment.GetEnvironmentVariable("ATOLL_JOIN_TOKEN"),
                Name = nodeName,
                Provider = result.GetValue(provider)!,
                Region = result.GetValue(region)!,
                Location = result.GetValue(location),
                InstanceType = result.GetValue(instanceType),
                CapacityType = result.GetValue(capacity)!,
                Labels = KeyValues.Parse(result.GetValue(labels), "--label", "KEY=VALUE", AgentExitCodes.Config),
                Models = KeyValues.Pairs(result.GetValue(models), "--model", "NAME=URL", AgentExitCodes.Config).Select(kv => new ModelEndpoint(kv.Key, kv.Value)).ToList(),
                StateDir = Path.GetFullPath(result.GetValue(state)!),
                HeartbeatInterval = result.GetValue(heartbeat) is { } h ? Durations.Parse(h, "--heartbeat-interval") : null,
                BatchEnabled = !result.GetValue(noBatch),
                BatchConcurrency = result.GetValue(batchConcurrency),
                BatchYieldAbove = result.GetValue(batchYieldAbove),
            };
            if (RegistrationValidator.ValidateModels(options.Models) is { } badModel)
            {
                throw new CliException($"invalid --model: {badModel}", AgentExitCodes.Config);
            }
            var gpuSpec = result.GetValue(gpus);
            if (gpuSpec is not null)
            {
                try
                {
                    SimulatedGpus.Parse(gpuSpec);
                }
                catch (FormatException e)
                {
                    throw new CliException(e.Message, AgentExitCodes.Config);
                }
            }
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }));
            using var cts = ParentWatch.Link(result, ct);
            return await AtollAgent.RunAsync(options, result.GetValue(gpus), result.GetValue(nvidiaSmi)!, loggers, cts.Token).ConfigureAwait(false);
        });
        return command;
    }
}
