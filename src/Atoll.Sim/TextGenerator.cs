namespace Atoll.Sim;

/// <summary>
/// Deterministic output: the same model and prompt always give the same words, and a shorter
/// <c>max_tokens</c> gives a prefix of a longer one. One word is one token.
/// </summary>
internal static class TextGenerator
{
    private static readonly string[] Vocabulary =
    [
        "the", "atoll", "reef", "tide", "lagoon", "coral", "island", "wave", "shore", "current",
        "a", "of", "and", "to", "in", "is", "on", "with", "as", "for",
        "gpu", "node", "fleet", "token", "model", "batch", "cache", "prefix", "stream", "queue",
        "quietly", "slowly", "brightly", "again", "soon", "far", "near", "deep", "warm", "clear",
        "sails", "drifts", "glows", "turns", "rests", "waits", "runs", "sings", "grows", "returns",
        "blue", "green", "silver", "calm", "open", "small", "bright", "long", "wide", "still",
        "moon", "sand", "wind", "light",
    ];

    /// <summary>The first <paramref name="count"/> output tokens as they go on the wire: words after the first carry a leading space.</summary>
    public static string[] Tokens(string model, string prompt, int count)
    {
        var state = StableHash.Combine(StableHash.Of(model), prompt);
        var tokens = new string[count];
        for (var i = 0; i < count; i++)
        {
            var word = Vocabulary[StableHash.Next(ref state) % (ulong)Vocabulary.Length];
            tokens[i] = i == 0 ? word : " " + word;
        }
        return tokens;
    }

    /// <summary>Prompt tokens are estimated as one per four characters, like most tokenizers on English text.</summary>
    public static int CountTokens(int chars) => (chars + 3) / 4;

    /// <summary>A unit vector of <paramref name="dimensions"/> derived from the model and text.</summary>
    public static float[] Embedding(string model, string text, int dimensions)
    {
        var state = StableHash.Combine(StableHash.Of(model), text);
        var vector = new float[dimensions];
        double norm = 0;
        for (var i = 0; i < dimensions; i++)
        {
            var unit = (StableHash.Next(ref state) >> 11) * (1.0 / (1UL << 53));
            vector[i] = (float)((unit * 2) - 1);
            norm += vector[i] * vector[i];
        }
        var scale = norm > 0 ? 1 / Math.Sqrt(norm) : 0;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(vector[i] * scale);
        }
        return vector;
    }
}
