namespace Atoll.Server.Gateway;

/// <summary>How one attempt on one endpoint ended.</summary>
internal enum AttemptOutcome
{
    /// <summary>The answer went to the client (any status the backend chose, 4xx included).</summary>
    Answered,

    /// <summary>Nothing reached the client: connect error, reset, timeout before headers, 5xx/429, broken body. Try elsewhere.</summary>
    Retryable,

    /// <summary>A stream had started and the backend failed; the client got an error event.</summary>
    StreamBroken,

    /// <summary>
    /// The gateway ended a stream at its time limit (<see cref="GatewayOptions.StreamTimeout"/>); the client got an
    /// error event. Not held against the endpoint: a long generation is no failure of a healthy server.
    /// </summary>
    StreamTimedOut,

    /// <summary>The client went away; the upstream request was cancelled.</summary>
    ClientGone,
}

/// <summary>Outcome of an attempt, with the upstream status (0 if none) and what went wrong.</summary>
internal readonly record struct AttemptResult(AttemptOutcome Outcome, int Status, string? Problem = null, int CompletionTokens = 0)
{
    public static AttemptResult Retry(string problem, int status = 0) => new(AttemptOutcome.Retryable, status, problem);
}
