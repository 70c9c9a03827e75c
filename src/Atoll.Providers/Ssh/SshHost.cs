using System.Text;
using System.Text.RegularExpressions;
using Atoll.Core.Fleet;
using Atoll.Core.Resources;
using Renci.SshNet;

namespace Atoll.Providers.Ssh;

/// <summary>One configured machine: its instance id (<c>address:port</c>), instance type, GPUs and login key.</summary>
internal sealed partial class SshHost
{
    private readonly Lazy<PrivateKeyFile> key;

    public SshHost(SshHostSpec spec, string instanceType, Func<string> privateKey, string? passphrase)
    {
        Spec = spec;
        Id = $"{spec.Address}:{spec.Port}";
        InstanceType = instanceType;
        (GpuModel, GpuCount, GpuMemoryGiB) = ParseGpu(spec.Gpu);
        key = new Lazy<PrivateKeyFile>(() => LoadKey(Id, privateKey(), passphrase), LazyThreadSafetyMode.PublicationOnly);
    }

    public SshHostSpec Spec { get; }

    /// <summary>The instance id of whatever runs on this host: <c>address:port</c>.</summary>
    public string Id { get; }

    public string InstanceType { get; }

    public string Region => string.IsNullOrWhiteSpace(Spec.Region) ? "onprem" : Spec.Region;

    public string? GpuModel { get; }

    public int GpuCount { get; }

    public int GpuMemoryGiB { get; }

    /// <summary>The parsed login key; throws <see cref="ProviderException"/> (Unauthorized) when it is missing or unreadable.</summary>
    public PrivateKeyFile Key => key.Value;

    /// <summary><c>ssh-</c> and the address as a name (<c>ssh-10-0-0-5</c>), with the port when it is not 22.</summary>
    public static string InstanceTypeOf(SshHostSpec spec)
    {
        var name = NodeNames.FromHostName(spec.Address).Replace('.', '-');
        return spec.Port == 22 ? "ssh-" + name : $"ssh-{name}-{spec.Port}";
    }

    /// <summary>"8xH100" → (H100, 8, 80); "H100" → one GPU; "8xH100-40GB" takes the memory given; empty → no GPU.</summary>
    internal static (string? Model, int Count, int MemoryGiB) ParseGpu(string? gpu)
    {
        if (string.IsNullOrWhiteSpace(gpu))
        {
            return (null, 0, 0);
        }
        var match = GpuPattern().Match(gpu.Trim());
        var count = match.Groups[1].Success ? int.Parse(match.Groups[1].Value) : 1;
        var raw = match.Groups[2].Value;
        var model = GpuModels.Normalize(raw) ?? raw;
        var memory = match.Groups[3].Success ? int.Parse(match.Groups[3].Value) : GpuModels.MemoryGiB(model);
        return (model, count, memory);
    }

    private static PrivateKeyFile LoadKey(string host, string text, string? passphrase)
    {
        try
        {
            // Secrets are trimmed when resolved; OpenSSH keys need their final newline.
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text.Trim() + "\n"));
            return new PrivateKeyFile(stream, passphrase);
        }
        catch (Exception e) when (e is Renci.SshNet.Common.SshException or ArgumentException or InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new ProviderException(ProviderErrorReason.Unauthorized, $"host {host}: the private key cannot be read: {e.Message}", e);
        }
    }

    [GeneratedRegex(@"^(?:(\d+)\s*[xX]\s*)?(.+?)(?:-(\d+)\s*GB)?$", RegexOptions.IgnoreCase)]
    private static partial Regex GpuPattern();
}
