using System.Text.Json;
using Atoll.Core.Json;

namespace Atoll.Core.Tests.Json;

public sealed class JsonErrorsTests
{
    private sealed record Shape(int Count);

    [Fact]
    public void A_reader_error_says_line_and_byte_counted_from_one()
    {
        var e = Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse("{\"a\": 1,\n  \"b\": }"));
        Assert.Equal("'}' is an invalid start of a value (line 2, byte 8).", JsonErrors.Describe(e));
    }

    [Fact]
    public void Without_the_line_only_the_byte_is_said()
    {
        var e = Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse("{\"a\": }"));
        Assert.Equal("'}' is an invalid start of a value (at byte 7).", JsonErrors.Describe(e, withLine: false));
    }

    [Fact]
    public void A_serializer_error_loses_its_path_and_reader_positions()
    {
        var e = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<Shape>("{\"count\": \"x\"}", JsonSerializerOptions.Web));
        var text = JsonErrors.Describe(e);
        Assert.DoesNotContain("Path:", text, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", text, StringComparison.Ordinal);
        Assert.Contains("could not be converted", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_of_our_own_is_kept_as_it_is()
    {
        Assert.Equal("Only one JSON value is allowed in the body.", JsonErrors.Describe(new JsonException("Only one JSON value is allowed in the body.")));
    }
}
