namespace Atoll.Core.Fleet;

/// <summary>What a pool needs now: claims to create, or claims to terminate (in order); never both.</summary>
public sealed record ScalePlan(int ToCreate, IReadOnlyList<NodeClaim> ToRemove)
{
    /// <summary>The pool is at its desired size.</summary>
    public static readonly ScalePlan None = new(0, []);
}
