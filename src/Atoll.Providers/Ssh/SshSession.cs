using System.Net.Sockets;
using Atoll.Core.Fleet;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Atoll.Providers.Ssh;

/// <summary>One SSH connection to a host, with errors mapped to <see cref="ProviderErrorReason"/>s.</summary>
internal sealed class SshSession : IDisposable
{
    private readonly SshClient client;
    private readonly SshHost host;

    private SshSession(SshClient client, SshHost host)
    {
        this.client = client;
        this.host = host;
    }

    /// <summary>
    /// Connects and logs in, retrying refused connections and timeouts with doubling delays. Refused keys fail
    /// at once as Unauthorized; a host still unreachable after the last attempt fails as Transient.
    /// </summary>
    public static async Task<SshSession> ConnectAsync(SshHost host, SshSettings settings, int attempts, TimeProvider time, CancellationToken ct)
    {
        var delay = settings.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var info = new ConnectionInfo(host.Spec.Address, host.Spec.Port, host.Spec.User, new PrivateKeyAuthenticationMethod(host.Spec.User, host.Key))
            {
                Timeout = settings.ConnectTimeout,
            };
            // Bring-your-own hosts have no host key registry here yet: any host key is accepted (see the adapter's notes).
            var client = new SshClient(info);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(settings.ConnectTimeout);
                await client.ConnectAsync(timeout.Token).ConfigureAwait(false);
                return new SshSession(client, host);
            }
            catch (Exception e) when (Map(host, e, ct) is { } error)
            {
                client.Dispose();
                if (!error.IsRetryable || attempt >= attempts)
                {
                    throw error;
                }
            }
            catch
            {
                client.Dispose();
                throw;
            }
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }

    /// <summary>Runs <paramref name="command"/>, feeding it <paramref name="stdin"/> (or an immediate end of input).</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string command, byte[]? stdin, TimeSpan? timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout is { } t)
        {
            cts.CancelAfter(t);
        }
        try
        {
            using var ssh = client.CreateCommand(command);
            var running = ssh.ExecuteAsync(cts.Token);
            using (var input = ssh.CreateInputStream())
            {
                if (stdin is not null)
                {
                    await input.WriteAsync(stdin, cts.Token).ConfigureAwait(false);
                }
            }
            await running.ConfigureAwait(false);
            return (ssh.ExitStatus ?? -1, ssh.Result, ssh.Error);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ProviderException(ProviderErrorReason.Transient, $"host {host.Id}: command did not finish within {timeout}");
        }
        catch (Exception e) when (Map(host, e, ct) is { } error)
        {
            throw error;
        }
    }

    public void Dispose() => client.Dispose();

    /// <summary>The typed error for an SSH.NET or socket failure, or null for exceptions that are not about the host.</summary>
    internal static ProviderException? Map(SshHost host, Exception e, CancellationToken ct) => e switch
    {
        ProviderException p => p,
        SshAuthenticationException => new ProviderException(ProviderErrorReason.Unauthorized,
            $"host {host.Id}: user {host.Spec.User} was refused with the configured key: {e.Message}", e),
        SocketException s => new ProviderException(ProviderErrorReason.Transient, $"host {host.Id}: {s.SocketErrorCode}: {s.Message}", e),
        SshOperationTimeoutException or TimeoutException => new ProviderException(ProviderErrorReason.Transient, $"host {host.Id}: timed out: {e.Message}", e),
        OperationCanceledException when !ct.IsCancellationRequested => new ProviderException(ProviderErrorReason.Transient, $"host {host.Id}: timed out connecting", e),
        SshConnectionException or SshException or IOException => new ProviderException(ProviderErrorReason.Transient, $"host {host.Id}: {e.Message}", e),
        _ => null,
    };
}
