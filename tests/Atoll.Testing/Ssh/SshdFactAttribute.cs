using Xunit;

namespace Atoll.Testing.Ssh;

/// <summary>A fact that talks to a real <see cref="SshdServer"/>: skipped with the reason when not running as root.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SshdFactAttribute : FactAttribute
{
    public SshdFactAttribute()
    {
        if (SshdServer.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
