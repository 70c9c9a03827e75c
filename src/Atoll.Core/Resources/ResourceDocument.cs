using System.Text.Json;

namespace Atoll.Core.Resources;

/// <summary>
/// A Kubernetes-style resource (<c>apiVersion</c>, <c>kind</c>, <c>metadata</c>, <c>spec</c>, <c>status</c>) as
/// applied by <c>atoll apply</c> and shown by <c>atoll get</c>. <see cref="Spec"/> stays JSON here and is read into
/// its typed record (<see cref="ProviderSpec"/>, <see cref="GpuPoolSpec"/>) by <c>ResourceSpecs</c>.
/// </summary>
public sealed record ResourceDocument(
    string ApiVersion,
    string Kind,
    ResourceMetadata Metadata,
    JsonElement Spec,
    JsonElement? Status = null);
