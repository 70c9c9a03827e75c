using System.Text.RegularExpressions;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;

namespace Atoll.Core.Resources;

/// <summary>The field checks of a GpuPool's spec.</summary>
internal static partial class PoolSpecValidator
{
    public const int MaxGpusPerNode = 16;

    private static readonly string[] AcceptedCapacityTypes = [CapacityTypes.Spot, CapacityTypes.OnDemand];

    public static void Validate(ValidationErrors errors, GpuPoolSpec spec, IReadOnlySet<string>? knownProviders)
    {
        Providers(errors, spec.Providers, knownProviders);
        Requirements(errors, spec.Requirements ?? new PoolRequirements());
        errors.Names("spec.regions", spec.Regions);
        CapacityTypeList(errors, spec.CapacityTypes);
        if (spec.MaxPricePerHour is <= 0m)
        {
            errors.Add("spec.maxPricePerHour", $"must be greater than 0 USD per node-hour (got {spec.MaxPricePerHour}); leave it out for no limit");
        }
        errors.AtLeast("spec.replicas", spec.Replicas, 0);
        errors.AtLeast("spec.min", spec.Min, 0);
        errors.AtLeast("spec.max", spec.Max, 0);
        if (spec.Min is { } min && spec.Max is { } max && min > max)
        {
            errors.Add("spec.min", $"spec.min ({min}) is greater than spec.max ({max})");
        }
        errors.AtLeast("spec.limits.maxGpus", spec.Limits?.MaxGpus, 0);
        errors.AtLeast("spec.limits.maxPricePerHour", spec.Limits?.MaxPricePerHour, 0);
        Timeout(errors, "spec.timeouts.launch", spec.Timeouts?.Launch);
        Timeout(errors, "spec.timeouts.registration", spec.Timeouts?.Registration);
        Timeout(errors, "spec.timeouts.initialization", spec.Timeouts?.Initialization);
        if (spec.Bootstrap?.AgentUrl is { } agentUrl && !ProviderSpecValidator.IsHttpUrl(agentUrl))
        {
            errors.Add("spec.bootstrap.agentUrl", $"'{agentUrl}' is not an absolute http(s) URL");
        }
        ResourceValidator.Labels(errors, "spec.labels", spec.Labels);
        for (var i = 0; i < (spec.Taints?.Count ?? 0); i++)
        {
            if (spec.Taints![i] is not { } taint || !Taint().IsMatch(taint))
            {
                errors.Add($"spec.taints[{i}]", $"'{spec.Taints[i]}' is not a taint: key=value:Effect (or key:Effect) with Effect NoSchedule, PreferNoSchedule or NoExecute, e.g. nvidia.com/gpu=true:NoSchedule");
            }
        }
    }

    private static void Providers(ValidationErrors errors, IReadOnlyList<string>? providers, IReadOnlySet<string>? known)
    {
        if (providers is not { Count: > 0 })
        {
            errors.Add("spec.providers", "no provider allowed: list at least one Provider name, e.g. providers: [lambda]");
            return;
        }
        errors.Names("spec.providers", providers);
        if (known is null)
        {
            return;
        }
        for (var i = 0; i < providers.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(providers[i]) && !known.Contains(providers[i]))
            {
                var names = known.Count == 0 ? "none yet (apply a Provider first)" : string.Join(", ", known.Order(StringComparer.Ordinal));
                errors.Add($"spec.providers[{i}]", $"no Provider named \"{providers[i]}\"; known: {names}");
            }
        }
    }

    private static void Requirements(ValidationErrors errors, PoolRequirements r)
    {
        if (r.GpusPerNode is < 0 or > MaxGpusPerNode)
        {
            errors.Add("spec.requirements.gpusPerNode", $"must be 0..{MaxGpusPerNode} (got {r.GpusPerNode}); 0 makes a CPU pool");
        }
        var models = r.GpuModels ?? [];
        if (r.GpusPerNode == 0 && models.Count > 0)
        {
            errors.Add("spec.requirements.gpuModels", "must be empty when gpusPerNode is 0 (a CPU pool)");
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < models.Count; i++)
        {
            var model = models[i];
            if (!GpuModels.IsKnown(model))
            {
                var guess = GpuModels.Normalize(model);
                errors.Add($"spec.requirements.gpuModels[{i}]", $"unknown GPU model '{model}'{(guess is null ? "" : $" (did you mean {guess}?)")}; "
                    + $"accepted: {string.Join(", ", GpuModels.All)}");
            }
            else if (!seen.Add(model))
            {
                errors.Add($"spec.requirements.gpuModels[{i}]", $"'{model}' is listed twice");
            }
        }
        errors.AtLeast("spec.requirements.minGpuMemoryGiB", r.MinGpuMemoryGiB, 0);
        errors.AtLeast("spec.requirements.minVCpus", r.MinVCpus, 0);
        errors.AtLeast("spec.requirements.minMemoryGiB", r.MinMemoryGiB, 0);
    }

    private static void CapacityTypeList(ValidationErrors errors, IReadOnlyList<string>? types)
    {
        if (types is null)
        {
            return;
        }
        if (types.Count == 0)
        {
            errors.Add("spec.capacityTypes", "must list at least one of spot, on-demand (or be left out for [spot, on-demand])");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < types.Count; i++)
        {
            if (!AcceptedCapacityTypes.Contains(types[i], StringComparer.Ordinal))
            {
                errors.Add($"spec.capacityTypes[{i}]", $"unknown capacity type '{types[i]}'; accepted: {string.Join(", ", AcceptedCapacityTypes)}");
            }
            else if (!seen.Add(types[i]))
            {
                errors.Add($"spec.capacityTypes[{i}]", $"'{types[i]}' is listed twice");
            }
        }
    }

    private static void Timeout(ValidationErrors errors, string path, string? value)
    {
        if (value is not null && !Durations.TryParse(value, out _))
        {
            errors.Add(path, $"'{value}' is not a duration: use a positive duration such as 90s, 10m, 1h or 1h30m");
        }
    }

    // Kubernetes taint: key (optionally prefixed) [=value] :Effect.
    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?(=[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?:(NoSchedule|PreferNoSchedule|NoExecute)$")]
    private static partial Regex Taint();
}
