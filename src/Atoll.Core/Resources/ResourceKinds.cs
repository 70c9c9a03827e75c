namespace Atoll.Core.Resources;

/// <summary>The resource kinds Atoll knows, and their API version.</summary>
public static class ResourceKinds
{
    public const string ApiVersion = "atoll.dev/v1alpha1";
    public const string Provider = "Provider";
    public const string GpuPool = "GpuPool";

    public static readonly IReadOnlyList<string> All = [Provider, GpuPool];
}
