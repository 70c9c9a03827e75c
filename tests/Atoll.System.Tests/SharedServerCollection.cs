namespace Atoll.System.Tests;

/// <summary>Test classes that share one running server; they run one after another, beside the other collections.</summary>
[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServerFixture>
{
    public const string Name = "shared server";
}
