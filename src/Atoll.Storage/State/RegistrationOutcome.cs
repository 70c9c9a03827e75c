namespace Atoll.Storage.State;

/// <summary>Why a registration was accepted or refused.</summary>
public enum RegistrationOutcome
{
    Registered,

    /// <summary>A retry of a registration whose answer was lost (same join token, name and key): new credential, no use spent.</summary>
    Resumed,
    UnknownToken,
    ExpiredToken,
    UsedUpToken,
    NameInUse,
}
