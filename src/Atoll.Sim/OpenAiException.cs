using System.Globalization;

namespace Atoll.Sim;

/// <summary>An answer in OpenAI's error shape, <c>{"error":{"message","type","param","code"}}</c>, with its HTTP status.</summary>
internal sealed class OpenAiException(int status, string message, string type, string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public string StatusText => Status.ToString(CultureInfo.InvariantCulture);

    public static OpenAiException Invalid(string message, string? param, string? code = null) =>
        new(400, message, "invalid_request_error", param, code);

    public static OpenAiException Missing(string param) =>
        Invalid($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static OpenAiException WrongType(string param, string expected) =>
        Invalid($"Invalid type for '{param}': expected {expected}.", param, "invalid_type");

    public static OpenAiException ModelNotFound(string model) =>
        new(404, $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", "model", "model_not_found");

    public static OpenAiException RateLimited(string message) =>
        new(429, message, "rate_limit_error", null, "rate_limit_exceeded");

    public static OpenAiException ServerError(string message) =>
        new(500, message, "server_error", null, "internal_error");

    public static OpenAiException NotReady() =>
        new(503, "The model server is starting and not ready yet; retry shortly.", "service_unavailable", null, "not_ready");

    public static OpenAiException TooLarge(long limit) =>
        new(413, $"Request body is larger than the {limit} bytes this server accepts (--max-body-bytes).", "invalid_request_error", null, "request_too_large");
}
