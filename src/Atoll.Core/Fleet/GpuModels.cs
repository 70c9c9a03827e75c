namespace Atoll.Core.Fleet;

/// <summary>
/// The GPU catalog: the canonical model names pools ask for (<c>H100</c>, <c>L40S</c>, <c>RTX6000Ada</c>) with the
/// memory of one GPU, and <see cref="Normalize"/> from the strings providers use to those names.
/// </summary>
/// <remarks>
/// One name per chip, not per memory variant: an A100 is <c>A100</c> whether it has 40 or 80 GB, as the
/// offers of every provider say how much each GPU has (<see cref="Offer.GpuMemoryGiB"/>) and a pool that needs
/// the large variant says so with <c>minGpuMemoryGiB</c>. <see cref="MemoryGiB"/> is the most common variant,
/// for offers whose provider does not say. NVIDIA only: the bootstrap pins NVIDIA drivers and the agent reads
/// nvidia-smi, so an AMD MI300X could be bought but never become a healthy node.
/// </remarks>
public static class GpuModels
{
    // Canonical name, memory per GPU (GiB), spellings that name it. A spelling matches a token (or 2–3 adjacent
    // tokens joined) of the upper-cased raw string when it is the token's start and no digit follows it, so
    // "A10" does not match "A100" and "L4" does not match "L40S"; the longest matching spelling wins.
    private static readonly (string Name, int MemoryGiB, string[] Spellings)[] Catalog =
    [
        ("B200", 180, ["B200"]),
        ("H200", 141, ["H200"]),
        ("GH200", 96, ["GH200"]),
        ("H100", 80, ["H100"]),
        ("A100", 80, ["A100"]),
        ("L40S", 48, ["L40S"]),
        ("L40", 48, ["L40"]),
        ("RTX6000Ada", 48, ["RTX6000ADA", "6000ADA", "RTXADA6000"]),
        ("A6000", 48, ["A6000", "RTXA6000"]),
        ("A40", 48, ["A40"]),
        ("RTX5090", 32, ["RTX5090", "5090"]),
        ("A10", 24, ["A10"]),
        ("A10G", 24, ["A10G"]),
        ("L4", 24, ["L4"]),
        ("RTX4090", 24, ["RTX4090", "4090"]),
        ("RTX3090", 24, ["RTX3090", "3090"]),
        ("A5000", 24, ["A5000", "RTXA5000"]),
        ("A4000", 16, ["A4000", "RTXA4000"]),
        ("V100", 16, ["V100"]),
        ("T4", 16, ["T4"]),
    ];

    private static readonly string[] VendorPrefixes = ["NVIDIA", "GEFORCE", "TESLA", "QUADRO"];

    private static readonly Dictionary<string, (string Name, int MemoryGiB)> ByName =
        Catalog.ToDictionary(c => c.Name, c => (c.Name, c.MemoryGiB), StringComparer.OrdinalIgnoreCase);

    /// <summary>Every canonical name, newest and largest first.</summary>
    public static IReadOnlyList<string> All { get; } = Catalog.Select(c => c.Name).ToArray();

    /// <summary>True when <paramref name="model"/> is a canonical name (case does not matter).</summary>
    public static bool IsKnown(string? model) => model is not null && ByName.ContainsKey(model);

    /// <summary>The canonical spelling of a known name ("h100" → "H100"), or null.</summary>
    public static string? Canonical(string? model) =>
        model is not null && ByName.TryGetValue(model, out var entry) ? entry.Name : null;

    /// <summary>Memory of one GPU of a canonical model in GiB (its most common variant); 0 when unknown.</summary>
    public static int MemoryGiB(string? model) =>
        model is not null && ByName.TryGetValue(model, out var entry) ? entry.MemoryGiB : 0;

    /// <summary>
    /// The canonical model named in a provider's string ("gpu_1x_h100_pcie", "NVIDIA H100 80GB HBM3",
    /// "H100_SXM5", "1H100.80S.30V", "rtx6000ada-pcie-48gb", "h100") or null when it names none Atoll knows.
    /// </summary>
    public static string? Normalize(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        var tokens = Tokens(raw);
        string? best = null;
        var bestLength = 0;
        for (var n = 3; n >= 1; n--)
        {
            for (var i = 0; i + n <= tokens.Count; i++)
            {
                var joined = n == 1 ? tokens[i] : string.Concat(tokens.Skip(i).Take(n));
                if (Match(joined) is { } m && m.Length > bestLength)
                {
                    (best, bestLength) = (m.Name, m.Length);
                }
            }
        }
        return best;
    }

    private static List<string> Tokens(string raw)
    {
        var tokens = new List<string>();
        foreach (var part in raw.ToUpperInvariant().Split(
            [' ', '_', '-', '.', '/', ',', '(', ')', ':', '+', '|'], StringSplitOptions.RemoveEmptyEntries))
        {
            var token = part;
            foreach (var prefix in VendorPrefixes)
            {
                if (token.Length > prefix.Length && token.StartsWith(prefix, StringComparison.Ordinal))
                {
                    token = token[prefix.Length..];
                }
            }
            tokens.Add(token);
        }
        return tokens;
    }

    // The spelling at the start of the token (or of the token without a leading count such as Verda's "1H100"
    // or "8X"), longest first.
    private static (string Name, int Length)? Match(string token)
    {
        var match = MatchAt(token);
        var digits = 0;
        while (digits < token.Length && char.IsAsciiDigit(token[digits]))
        {
            digits++;
        }
        if (digits > 0 && digits < token.Length)
        {
            var rest = token[digits] == 'X' && digits + 1 < token.Length ? token[(digits + 1)..] : token[digits..];
            if (char.IsAsciiLetter(rest[0]) && MatchAt(rest) is { } stripped && (match is null || stripped.Length > match.Value.Length))
            {
                match = stripped;
            }
        }
        return match;
    }

    private static (string Name, int Length)? MatchAt(string token)
    {
        (string Name, int Length)? best = null;
        foreach (var (name, _, spellings) in Catalog)
        {
            foreach (var spelling in spellings)
            {
                if (token.StartsWith(spelling, StringComparison.Ordinal)
                    && (token.Length == spelling.Length || !char.IsAsciiDigit(token[spelling.Length]))
                    && (best is null || spelling.Length > best.Value.Length))
                {
                    best = (name, spelling.Length);
                }
            }
        }
        return best;
    }
}
