using System.Security.Cryptography;

namespace Atoll.Core.Batch;

/// <summary>Identifiers in OpenAI's formats: <c>batch_…</c>, <c>file-…</c>, <c>batch_req_…</c>.</summary>
public static class BatchIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int RandomLength = 24;

    public static string NewBatchId() => "batch_" + Random();

    public static string NewFileId() => "file-" + Random();

    /// <summary>The <c>id</c> of one result line.</summary>
    public static string NewRequestId() => "batch_req_" + Random();

    private static string Random() => RandomNumberGenerator.GetString(Alphabet, RandomLength);
}
