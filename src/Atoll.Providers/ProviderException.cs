using Atoll.Core.Fleet;

namespace Atoll.Providers;

/// <summary>A provider call failed; <see cref="Reason"/> says what it means for the caller.</summary>
public sealed class ProviderException : Exception
{
    public ProviderException(ProviderErrorReason reason, string message, Exception? inner = null, TimeSpan? retryAfter = null)
        : base(message, inner)
    {
        Reason = reason;
        RetryAfter = retryAfter;
    }

    public ProviderException()
        : this(ProviderErrorReason.Transient, "provider call failed")
    {
    }

    public ProviderException(string message)
        : this(ProviderErrorReason.Transient, message)
    {
    }

    public ProviderException(string message, Exception inner)
        : this(ProviderErrorReason.Transient, message, inner)
    {
    }

    public ProviderErrorReason Reason { get; }

    /// <summary>The provider's <c>Retry-After</c>, when it gave one.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>True for reasons where the same call may succeed later.</summary>
    public bool IsRetryable => Reason is ProviderErrorReason.Transient or ProviderErrorReason.RateLimited;
}
