namespace Atoll.Core.Fleet;

/// <summary>Why an offer (or a whole provider account) is skipped for now, and until when.</summary>
/// <param name="Key">The offer key (<c>provider:instanceType:region:capacity</c>); provider-wide entries use <c>*</c>
/// for what they cover: <c>lambda:*:*:*</c>, <c>verda:*:*:spot</c>.</param>
/// <param name="Message">The provider's message, for people.</param>
public sealed record UnavailableEntry(string Key, ProviderErrorReason Reason, string Message, DateTimeOffset MarkedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>True for an entry that blocks every offer of a provider (of one capacity type, or all).</summary>
    public bool IsProviderWide => Key.Contains(":*:*:", StringComparison.Ordinal);
}
