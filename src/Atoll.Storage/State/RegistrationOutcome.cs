namespace Atoll.Storage.State;

/// <summary>Why a registration was accepted or refused.</summary>
public enum RegistrationOutcome
{
    Registered,
    UnknownToken,
    ExpiredToken,
    UsedUpToken,
    NameInUse,
}
