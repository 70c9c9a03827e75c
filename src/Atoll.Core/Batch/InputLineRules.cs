using System.Text.Json;
using Atoll.Core.Json;

namespace Atoll.Core.Batch;

/// <summary>
/// The per-line rules of a batch input file, with the state they need across lines
/// (custom_ids seen so far, the file's model).
/// </summary>
internal sealed class InputLineRules(string endpoint, BatchErrorList errors)
{
    private readonly Dictionary<string, int> customIds = new(StringComparer.Ordinal);
    private int modelLine;

    public string? Model { get; private set; }

    public void Check(ReadOnlySpan<byte> content, int line)
    {
        RequestLineFields fields;
        try
        {
            fields = RequestLineParser.Parse(content, endpoint, Model);
        }
        catch (JsonException e)
        {
            errors.Add(BatchErrorCodes.InvalidJsonLine, line, $"line {line} is not valid JSON: {JsonErrors.Describe(e, withLine: false)}", null);
            return;
        }
        if (!fields.IsObject)
        {
            errors.Add(BatchErrorCodes.InvalidJsonLine, line, $"line {line} is not a JSON object; each line must be one request object", null);
            return;
        }
        CheckCustomId(fields.CustomId, line);
        if (fields.Method != "POST")
        {
            errors.Add(BatchErrorCodes.InvalidMethod, line,
                $"line {line} has method {Quote(fields.Method)}; only \"POST\" is supported", "method");
        }
        if (fields.Url != endpoint)
        {
            errors.Add(BatchErrorCodes.MismatchedEndpoint, line,
                $"line {line} has url {Quote(fields.Url)} but the batch's endpoint is \"{endpoint}\"; every line's url must equal it", "url");
        }
        CheckBody(fields, line);
    }

    private void CheckCustomId(string? customId, int line)
    {
        if (string.IsNullOrEmpty(customId))
        {
            errors.Add(BatchErrorCodes.MissingCustomId, line,
                $"line {line} has no custom_id; every line needs a non-empty string custom_id", "custom_id");
        }
        else if (!customIds.TryAdd(customId, line))
        {
            errors.Add(BatchErrorCodes.DuplicateCustomId, line,
                $"line {line} repeats custom_id \"{customId}\" of line {customIds[customId]}; custom_id must be unique in the file", "custom_id");
        }
    }

    private void CheckBody(RequestLineFields fields, int line)
    {
        if (!fields.BodyIsObject)
        {
            var what = fields.HasBody ? "a body that is not a JSON object" : "no body";
            errors.Add(BatchErrorCodes.MissingBody, line, $"line {line} has {what}; body must be the request object", "body");
        }
        else if (string.IsNullOrEmpty(fields.Model))
        {
            errors.Add(BatchErrorCodes.MissingModel, line, $"line {line} has no model in its body; body.model must be a string", "body.model");
        }
        else if (Model is null)
        {
            Model = fields.Model;
            modelLine = line;
        }
        else if (fields.Model != Model)
        {
            errors.Add(BatchErrorCodes.MismatchedModel, line,
                $"line {line} uses model \"{fields.Model}\" but line {modelLine} uses \"{Model}\"; a batch file must use one model", "body.model");
        }
    }

    private static string Quote(string? value) => value is null ? "(missing)" : $"\"{value}\"";
}
