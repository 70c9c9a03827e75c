namespace Atoll.Storage.State;

/// <summary>What a lease heartbeat found.</summary>
public enum LeaseStatus
{
    /// <summary>Still ours; extended.</summary>
    Extended,

    /// <summary>No longer ours (expired and re-leased, or completed): stop, write nothing.</summary>
    Lost,

    /// <summary>Ours, but the batch is being cancelled or has expired: stop.</summary>
    Cancelled,
}
