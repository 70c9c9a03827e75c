namespace Atoll.Core.Contracts;

/// <summary>Names of node conditions and their status values.</summary>
public static class ConditionTypes
{
    public const string Ready = "Ready";
    public const string GpuReady = "GpuReady";

    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";
}
