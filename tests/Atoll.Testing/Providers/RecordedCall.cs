namespace Atoll.Testing.Providers;

/// <summary>One request a stand-in received.</summary>
public sealed record RecordedCall(string Method, string PathAndQuery, string Authorization, string Body);
