namespace Atoll.Agent.BatchWorker;

/// <summary>How the work on one lease ended.</summary>
internal enum LeaseOutcome
{
    /// <summary>Result uploaded and the lease completed.</summary>
    Completed,

    /// <summary>The attempt failed (reported with /fail, nothing uploaded); the server retries the chunk elsewhere.</summary>
    Failed,

    /// <summary>The lease was lost or the batch cancelled: stopped at once, nothing written.</summary>
    Dropped,

    /// <summary>The server refused the node credential: the worker stops.</summary>
    Unauthorized,
}
