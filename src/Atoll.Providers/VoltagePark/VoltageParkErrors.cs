using System.Net;
using Atoll.Core.Fleet;
using Atoll.Providers.Http;

namespace Atoll.Providers.VoltagePark;

/// <summary>
/// Voltage Park error bodies into typed reasons. The API has no documented error codes (the public SDK only
/// surfaces the status and a <c>detail</c> text), so beyond the status the text decides: "no VMs available" is
/// capacity, "quota", "limit" or "balance" is the account's limit.
/// </summary>
internal static class VoltageParkErrors
{
    private static readonly string[] CapacityWords =
        ["capacity", "no available", "not available", "unavailable", "sold out", "out of stock", "no vms", "no virtual machines"];

    private static readonly string[] QuotaWords = ["quota", "limit reached", "limit exceeded", "balance", "insufficient funds", "credit"];

    public static ProviderException Classify(string provider, HttpStatusCode status, string body)
    {
        var message = VoltageParkJson.ErrorMessage(body);
        var text = message.ToLowerInvariant();
        var code = (int)status;
        var reason = code switch
        {
            401 or 403 => ProviderErrorReason.Unauthorized,
            429 => ProviderErrorReason.RateLimited,
            >= 500 => ProviderErrorReason.Transient,
            404 => ProviderErrorReason.NotFound,
            402 => ProviderErrorReason.QuotaExceeded,
            _ when CapacityWords.Any(text.Contains) => ProviderErrorReason.InsufficientCapacity,
            _ when QuotaWords.Any(text.Contains) => ProviderErrorReason.QuotaExceeded,
            _ => ProviderHttpClient.ReasonOf(status),
        };
        return new ProviderException(reason, $"{provider}: Voltage Park answered {code}: {message}");
    }
}
