namespace Atoll.Core.Routing;

/// <summary>Passive-health state of one endpoint.</summary>
public enum EjectionState
{
    /// <summary>Eligible; no ejection since the last success.</summary>
    Healthy,

    /// <summary>Out of rotation until the cooldown ends.</summary>
    Ejected,

    /// <summary>Cooldown over, eligible again, but one failure re-ejects it with a longer cooldown.</summary>
    HalfOpen,
}
