using System.Text.Json;

namespace Atoll.Server.Tests;

/// <summary>Reads an RFC 7807 answer and checks its shape.</summary>
internal static class Problem
{
    public static async Task<string> DetailAsync(HttpResponseMessage response, int expectedStatus)
    {
        Assert.Equal(expectedStatus, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(expectedStatus, doc.RootElement.GetProperty("status").GetInt32());
        return doc.RootElement.GetProperty("detail").GetString()!;
    }
}
