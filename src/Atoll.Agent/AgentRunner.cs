using System.Net;
using System.Reflection;
using Atoll.Agent.BatchWorker;
using Atoll.Agent.Gpu;
using Atoll.Agent.Registration;
using Atoll.Core.Contracts;
using Atoll.Core.Retry;
using Microsoft.Extensions.Logging;

namespace Atoll.Agent;

/// <summary>
/// The agent's life: get a node credential (from disk, or by registering with the join token), then heartbeat
/// GPU health and model endpoints until stopped. The server going away is survived with backoff; the node
/// being deleted (credential revoked) stops the agent with a clear line. The batch worker, when given, runs beside
/// the heartbeat loop and ends with it; it can never end the agent.
/// </summary>
internal sealed class AgentRunner(
    AgentOptions options, IGpuProbe gpus, ControlPlaneClient client, TimeProvider time, ILogger<AgentRunner> logger,
    BatchWorkerSupervisor? batch = null)
{
    public static string Version { get; } =
        typeof(AgentRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public async Task<int> RunAsync(CancellationToken ct)
    {
        try
        {
            var credential = await EnsureCredentialAsync(ct).ConfigureAwait(false);
            if (credential is null)
            {
                return AgentExitCodes.Config;
            }
            if (batch is null)
            {
                return await HeartbeatLoopAsync(credential, ct).ConfigureAwait(false);
            }
            using var stopBatch = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var worker = batch.RunAsync(credential.Credential, stopBatch.Token);
            try
            {
                return await HeartbeatLoopAsync(credential, ct).ConfigureAwait(false);
            }
            finally
            {
                await stopBatch.CancelAsync().ConfigureAwait(false);
                await worker.ConfigureAwait(false); // never throws
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logger.LogInformation("Agent for node {Node} stopping", options.Name);
            return AgentExitCodes.Ok;
        }
        catch (InvalidDataException e)
        {
            logger.LogCritical("{Problem}", e.Message);
            return AgentExitCodes.Config;
        }
    }

    private async Task<AgentCredential?> EnsureCredentialAsync(CancellationToken ct)
    {
        var saved = CredentialFile.Load(options.StateDir);
        var server = options.Server.ToString();
        if (saved is not null && saved.Server == server && saved.NodeName == options.Name)
        {
            logger.LogInformation("Using the saved credential of node {Node} from {Path}", saved.NodeName, CredentialFile.PathIn(options.StateDir));
            return saved;
        }
        if (saved is not null)
        {
            logger.LogWarning("Saved credential in {Path} is for node {Node} at {Server}; registering anew", CredentialFile.PathIn(options.StateDir), saved.NodeName, saved.Server);
        }
        if (string.IsNullOrWhiteSpace(options.JoinToken))
        {
            logger.LogCritical("Node {Node} has no credential in {Dir} and no --join-token was given: create one with `atoll tokens create` and pass it with --join-token",
                options.Name, options.StateDir);
            return null;
        }

        // Saved before the first attempt: a retry after a lost answer proves it is the same agent (RegistrationKeyFile).
        var registrationKey = RegistrationKeyFile.LoadOrCreate(options.StateDir);
        var backoff = new ExponentialBackoff(options.InitialBackoff, options.MaxBackoff);
        while (true)
        {
            var report = await gpus.ProbeAsync(ct).ConfigureAwait(false);
            var request = new RegisterNodeRequest(options.Name, options.Provider, options.Region, options.Location,
                options.InstanceType, options.CapacityType, options.Labels, report, options.Models, Version, registrationKey);
            try
            {
                var answer = await client.RegisterAsync(options.JoinToken, request, ct).ConfigureAwait(false);
                var credential = new AgentCredential(server, answer.NodeName, answer.Credential);
                CredentialFile.Save(options.StateDir, credential);
                logger.LogInformation("Registered as node {Node} with {Server}; credential saved to {Path}",
                    answer.NodeName, server, CredentialFile.PathIn(options.StateDir));
                return credential;
            }
            catch (ControlPlaneException e)
            {
                logger.LogCritical("Registration of node {Node} refused ({Status}): {Reason}", options.Name, (int)e.Status, e.Message);
                return null;
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException)
            {
                var delay = backoff.NextDelay();
                logger.LogWarning("Cannot reach {Server} to register ({Error}); retrying in {Delay:F1}s", server, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<int> HeartbeatLoopAsync(AgentCredential credential, CancellationToken ct)
    {
        var backoff = new ExponentialBackoff(options.InitialBackoff, options.MaxBackoff);
        var interval = options.HeartbeatInterval ?? TimeSpan.FromSeconds(10);
        string? lastGpuState = null;
        while (true)
        {
            var report = await gpus.ProbeAsync(ct).ConfigureAwait(false);
            var gpuState = report.Healthy ? "healthy" : report.Reason;
            if (gpuState != lastGpuState)
            {
                if (report.Healthy)
                {
                    logger.LogInformation("GPUs: {Message}", report.Message);
                }
                else
                {
                    logger.LogError("GPUs not ready: {Reason}: {Message}", report.Reason, report.Message);
                }
                lastGpuState = gpuState;
            }
            TimeSpan delay;
            try
            {
                var answer = await client.HeartbeatAsync(credential.Credential, new HeartbeatRequest(credential.NodeName, report, options.Models), ct)
                    .ConfigureAwait(false);
                if (backoff.Failures > 0)
                {
                    logger.LogInformation("Control plane reachable again after {Failures} failed heartbeat(s)", backoff.Failures);
                }
                backoff.Reset();
                interval = options.HeartbeatInterval ?? TimeSpan.FromSeconds(Math.Max(1, answer.HeartbeatIntervalSeconds));
                delay = ExponentialBackoff.Jitter(interval, 0.1, Random.Shared);
            }
            catch (ControlPlaneException e) when (e.Status is HttpStatusCode.Unauthorized)
            {
                logger.LogCritical("Node {Node} was removed from the control plane (credential revoked: {Reason}); stopping. To join again, delete {Path} and start with a new --join-token",
                    credential.NodeName, e.Message, CredentialFile.PathIn(options.StateDir));
                return AgentExitCodes.Revoked;
            }
            catch (ControlPlaneException e)
            {
                logger.LogCritical("Heartbeat of node {Node} refused ({Status}): {Reason}; stopping", credential.NodeName, (int)e.Status, e.Message);
                return AgentExitCodes.Config;
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException)
            {
                delay = backoff.NextDelay();
                if (delay > interval)
                {
                    delay = ExponentialBackoff.Jitter(interval, 0.1, Random.Shared);
                }
                if (backoff.Failures == 1 || backoff.Failures % 10 == 0)
                {
                    logger.LogWarning("Heartbeat failed ({Failures} in a row): {Error}; retrying in {Delay:F1}s",
                        backoff.Failures, e.Message, delay.TotalSeconds);
                }
            }
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
        }
    }
}
