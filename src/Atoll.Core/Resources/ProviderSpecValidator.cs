using System.Text.RegularExpressions;
using Atoll.Core.Fleet;
using Atoll.Core.Health;

namespace Atoll.Core.Resources;

/// <summary>The field checks of a Provider's spec.</summary>
internal static partial class ProviderSpecValidator
{
    /// <summary>The credentials each type takes; all are required, except ssh's privateKey when every host has its own.</summary>
    private static readonly Dictionary<string, string[]> Credentials = new(StringComparer.Ordinal)
    {
        [ProviderTypes.Lambda] = ["apiKey"],
        [ProviderTypes.VoltagePark] = ["apiKey"],
        [ProviderTypes.TensorDock] = ["apiKey"],
        [ProviderTypes.Hetzner] = ["apiKey"],
        [ProviderTypes.Verda] = ["clientId", "clientSecret"],
        [ProviderTypes.Ssh] = ["privateKey"],
        [ProviderTypes.Local] = [],
    };

    public static void Validate(ValidationErrors errors, ProviderSpec spec, Func<SecretRef, string?>? secretProblem)
    {
        if (!Credentials.TryGetValue(spec.Type, out var accepted))
        {
            errors.Add("spec.type", $"unknown provider type '{spec.Type}'; accepted: {string.Join(", ", ProviderTypes.All)}");
            return;
        }
        CheckCredentials(errors, spec, accepted, secretProblem);
        if (spec.BaseUrl is not null && !IsHttpUrl(spec.BaseUrl))
        {
            errors.Add("spec.baseUrl", $"'{spec.BaseUrl}' is not an absolute http(s) URL such as https://api.example.com/v1");
        }
        errors.Names("spec.regions", spec.Regions);
        errors.Names("spec.sshKeys", spec.SshKeys);
        if (spec.Type == ProviderTypes.Ssh)
        {
            Hosts(errors, spec.Hosts, secretProblem);
        }
        else if (spec.Hosts is not null)
        {
            errors.Add("spec.hosts", $"only a provider of type {ProviderTypes.Ssh} has hosts");
        }
        if (spec.Type == ProviderTypes.Local)
        {
            Local(errors, spec.Local ?? new LocalProviderSpec());
        }
        else if (spec.Local is not null)
        {
            errors.Add("spec.local", $"only a provider of type {ProviderTypes.Local} has local settings");
        }
    }

    internal static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;

    private static void CheckCredentials(ValidationErrors errors, ProviderSpec spec, string[] accepted, Func<SecretRef, string?>? secretProblem)
    {
        var credentials = spec.Credentials ?? new Dictionary<string, SecretRef>();
        foreach (var (name, secret) in credentials)
        {
            var path = SpecReader.Member("spec.credentials", name);
            if (!accepted.Contains(name, StringComparer.Ordinal))
            {
                errors.Add(path, accepted.Length == 0
                    ? $"a provider of type {spec.Type} takes no credentials"
                    : $"unknown credential for type {spec.Type}; accepted: {string.Join(", ", accepted)}");
                continue;
            }
            Secret(errors, path, secret, secretProblem);
        }
        var hostsHaveKeys = spec.Type == ProviderTypes.Ssh && spec.Hosts is { Count: > 0 } hosts && hosts.All(h => h?.PrivateKey is not null);
        foreach (var name in accepted)
        {
            if (!credentials.ContainsKey(name) && !hostsHaveKeys)
            {
                errors.Add(SpecReader.Member("spec.credentials", name), spec.Type == ProviderTypes.Ssh
                    ? "required unless every host has its own privateKey: a secret reference such as {file: /etc/atoll/id_ed25519}"
                    : $"required for type {spec.Type}: a secret reference such as {{env: {spec.Type.ToUpperInvariant()}_{Snake(name)}}} or {{file: /path}}");
            }
        }
    }

    /// <summary>Exactly one of env and file, and (on the server) that it resolves.</summary>
    internal static void Secret(ValidationErrors errors, string path, SecretRef secret, Func<SecretRef, string?>? secretProblem)
    {
        if ((secret.Env is null) == (secret.File is null))
        {
            errors.Add(path, "set exactly one of env (an environment variable of the server) or file (a file on the server)");
        }
        else if (secret.Env is not null && !EnvName().IsMatch(secret.Env))
        {
            errors.Add(path + ".env", $"'{secret.Env}' is not an environment variable name: letters, digits and '_', not starting with a digit");
        }
        else if (secret.File is not null && string.IsNullOrWhiteSpace(secret.File))
        {
            errors.Add(path + ".file", "must be a file path on the server");
        }
        else if (secretProblem?.Invoke(secret) is { } problem)
        {
            errors.Add(path, problem);
        }
    }

    private static void Hosts(ValidationErrors errors, IReadOnlyList<SshHostSpec>? hosts, Func<SecretRef, string?>? secretProblem)
    {
        if (hosts is not { Count: > 0 })
        {
            errors.Add("spec.hosts", "an ssh provider needs at least one host: - address: 10.0.0.5");
            return;
        }
        var seen = new HashSet<(string, int)>();
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            var path = $"spec.hosts[{i}]";
            if (string.IsNullOrWhiteSpace(host.Address))
            {
                errors.Add(path + ".address", "required: the host name or IP address to connect to");
            }
            else if (!seen.Add((host.Address, host.Port)))
            {
                errors.Add(path + ".address", $"{host.Address}:{host.Port} is listed twice");
            }
            if (host.Port is < 1 or > 65535)
            {
                errors.Add(path + ".port", $"must be 1..65535 (got {host.Port})");
            }
            if (string.IsNullOrWhiteSpace(host.User))
            {
                errors.Add(path + ".user", "must not be empty");
            }
            if (host.PrivateKey is not null)
            {
                Secret(errors, path + ".privateKey", host.PrivateKey, secretProblem);
            }
            if (!string.IsNullOrEmpty(host.Gpu))
            {
                Shape(errors, path + ".gpu", host.Gpu);
            }
            errors.AtLeast(path + ".vCpus", host.VCpus, 0);
            errors.AtLeast(path + ".memoryGiB", host.MemoryGiB, 0);
            errors.AtLeast(path + ".pricePerHour", host.PricePerHour, 0);
        }
    }

    private static void Local(ValidationErrors errors, LocalProviderSpec local)
    {
        if (local.MaxNodes is < 1 or > 64)
        {
            errors.Add("spec.local.maxNodes", $"must be 1..64 (got {local.MaxNodes})");
        }
        for (var i = 0; i < (local.Shapes?.Count ?? 0); i++)
        {
            Shape(errors, $"spec.local.shapes[{i}]", local.Shapes![i], allowNone: true);
        }
        if (string.IsNullOrWhiteSpace(local.Model))
        {
            errors.Add("spec.local.model", "must not be empty");
        }
    }

    /// <summary>"8xH100", "1xH100-80GB" (or "none" for a local CPU shape): a GPU group whose model is in the catalog.</summary>
    private static void Shape(ValidationErrors errors, string path, string shape, bool allowNone = false)
    {
        try
        {
            var report = SimulatedGpus.Parse(shape);
            if (report.Gpus.Count == 0 && !allowNone)
            {
                errors.Add(path, $"'{shape}' has no GPUs: leave gpu out for a CPU machine");
            }
            if (report.Gpus.Any(g => GpuModels.Normalize(g.Name) is null))
            {
                errors.Add(path, $"'{shape}' names a GPU model Atoll does not know: use COUNTxMODEL such as 8xH100; accepted: {string.Join(", ", GpuModels.All)}");
            }
        }
        catch (FormatException e)
        {
            errors.Add(path, e.Message);
        }
    }

    private static string Snake(string name) => string.Concat(name.Select(c => char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();
}
