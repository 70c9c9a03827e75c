namespace Atoll.Core.Tests.Batch;

/// <summary>Tests that measure process-wide allocations run alone, after the parallel ones.</summary>
[CollectionDefinition(nameof(LargeBatchFileCollection), DisableParallelization = true)]
public sealed class LargeBatchFileCollection;
