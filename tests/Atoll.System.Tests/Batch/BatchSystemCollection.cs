namespace Atoll.System.Tests.Batch;

/// <summary>
/// The batch system tests run one after another: each starts a server and several agents and sims, and the crash
/// test times its kills against the batch's progress, which a second fleet on the same 2 cores would blur.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BatchSystemCollection
{
    public const string Name = "batch-system";
}
