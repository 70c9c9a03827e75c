using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Atoll.Testing.Processes;
using Xunit;

namespace Atoll.Testing.Ssh;

/// <summary>
/// A real OpenSSH server on 127.0.0.1 for one test: its own host key, an authorized client key and config in a
/// temp directory, run as <c>sshd -D -e</c> and killed on dispose. Logging in needs root (the test logs in as the
/// user running sshd, and sshd needs its privilege-separation directory): see <see cref="SkipReason"/>.
/// </summary>
public sealed class SshdServer : IAsyncDisposable
{
    public const string SshdPath = "/usr/sbin/sshd";
    public const string KeygenPath = "/usr/bin/ssh-keygen";

    private readonly Process process;
    private readonly StringBuilder log;

    private SshdServer(string directory, int port, Process process, StringBuilder log)
    {
        Directory = directory;
        Port = port;
        this.process = process;
        this.log = log;
    }

    /// <summary>Why sshd tests cannot run here (not root), or null when they can; as root a missing sshd fails instead.</summary>
    public static string? SkipReason =>
        Environment.IsPrivilegedProcess
            ? null
            : "sshd tests log in as root with a key and need /run/sshd: run them as root (test.sh and CI do)";

    public string Host { get; } = "127.0.0.1";

    public int Port { get; }

    /// <summary>The temp directory holding keys, config and whatever the test puts there.</summary>
    public string Directory { get; }

    /// <summary>The private key (OpenSSH format) whose public half is authorized.</summary>
    public string ClientKeyPath => Path.Combine(Directory, "client_key");

    public string ClientPrivateKey => File.ReadAllText(ClientKeyPath);

    /// <summary>What sshd printed (connections, authentication failures).</summary>
    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public static async Task<SshdServer> StartAsync(CancellationToken ct = default)
    {
        Assert.True(File.Exists(SshdPath), $"{SshdPath} is not installed (apt-get install openssh-server; test.sh does)");
        var directory = System.IO.Directory.CreateTempSubdirectory("atoll-sshd-").FullName;
        await KeygenAsync(Path.Combine(directory, "host_key"), ct);
        await KeygenAsync(Path.Combine(directory, "client_key"), ct);
        File.Copy(Path.Combine(directory, "client_key.pub"), Path.Combine(directory, "authorized_keys"));
        // sshd refuses to start without its privilege-separation directory (systemd's tmpfiles make it on a real host).
        System.IO.Directory.CreateDirectory("/run/sshd");
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePorts.Next();
            var config = Path.Combine(directory, "sshd_config");
            await File.WriteAllTextAsync(config, $"""
                ListenAddress 127.0.0.1
                Port {port}
                HostKey {Path.Combine(directory, "host_key")}
                AuthorizedKeysFile {Path.Combine(directory, "authorized_keys")}
                PidFile {Path.Combine(directory, "sshd.pid")}
                StrictModes no
                UsePAM no
                PermitRootLogin prohibit-password
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                LogLevel VERBOSE

                """, ct);
            var log = new StringBuilder();
            var process = StartSshd(config, log);
            var server = new SshdServer(directory, port, process, log);
            try
            {
                await server.WaitUntilListeningAsync(ct);
                return server;
            }
            catch (InvalidOperationException e)
            {
                // Most likely the port was taken between choosing and binding it: try another.
                last = e;
                await server.StopAsync();
            }
        }
        System.IO.Directory.Delete(directory, recursive: true);
        throw new InvalidOperationException("sshd did not start", last);
    }

    /// <summary>A fresh key pair that this server does not accept; returns the private key's path.</summary>
    public async Task<string> CreateUnauthorizedKeyAsync(CancellationToken ct = default)
    {
        var path = Path.Combine(Directory, $"other_key_{Guid.NewGuid():N}");
        await KeygenAsync(path, ct);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file a test left open; the temp directory is cleaned by the OS eventually.
        }
    }

    private async Task StopAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        process.Dispose();
    }

    private static Process StartSshd(string config, StringBuilder log)
    {
        var start = new ProcessStartInfo(SshdPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-D", "-e", "-f", config })
        {
            start.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = start };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    // Listening means the SSH banner arrives; until then sshd may still be binding.
    private async Task WaitUntilListeningAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"sshd exited with {process.ExitCode}:\n{Log}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(Host, Port, ct);
                var buffer = new byte[64];
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var read = await client.GetStream().ReadAsync(buffer, timeout.Token);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("SSH-2.0", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            await Task.Delay(50, ct);
        }
        throw new InvalidOperationException($"sshd did not listen on {Host}:{Port} within 15 s:\n{Log}");
    }

    private static async Task KeygenAsync(string path, CancellationToken ct)
    {
        var start = new ProcessStartInfo(KeygenPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-q", "-t", "ed25519", "-N", "", "-C", "atoll-test", "-f", path })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        Assert.True(process.ExitCode == 0, $"ssh-keygen failed: {await stderr}");
    }
}
