using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Atoll.Cli.Output;

/// <summary><c>-o table|json</c>: tables for people, JSON for scripts.</summary>
internal static class OutputFormat
{
    public const string Table = "table";
    public const string Json = "json";

    // Relaxed escaping: this goes to a terminal or a pipe, never into HTML, so "+00:00" stays "+00:00" (not "\u002B00:00").
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Option<string> CreateOption()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "output format: table or json",
            DefaultValueFactory = _ => Table,
        };
        option.AcceptOnlyFromAmong(Table, Json);
        return option;
    }

    public static void WriteJson(JsonElement value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Indented));

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Indented));
}
