namespace Atoll.Core.Fleet;

/// <summary>A file cloud-init writes before it runs commands.</summary>
public sealed record BootstrapFile(string Path, string Content, string Permissions);
