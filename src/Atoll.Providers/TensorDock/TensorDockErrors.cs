using System.Net;
using Atoll.Core.Fleet;
using Atoll.Providers.Http;

namespace Atoll.Providers.TensorDock;

/// <summary>
/// TensorDock's <c>{"errors":[{status,title,detail}]}</c> into typed reasons. There are no error codes, so after
/// the status the words decide: "no available GPUs" / "capacity" is capacity, "quota" / "limit" / "balance" is
/// the account's limit (the API refuses to deploy below a $1 balance). A 403 is read for those words before it
/// counts as a refused key.
/// </summary>
internal static class TensorDockErrors
{
    private static readonly string[] CapacityWords =
        ["capacity", "no available", "not available", "unavailable", "insufficient resources", "out of stock", "sold out", "no gpus"];

    private static readonly string[] QuotaWords = ["quota", "limit reached", "limit exceeded", "instance limit", "balance", "insufficient funds"];

    public static ProviderException Classify(string provider, HttpStatusCode status, string body)
    {
        var message = TensorDockJson.ErrorMessage(body);
        var text = message.ToLowerInvariant();
        var code = (int)status;
        var reason = code switch
        {
            401 => ProviderErrorReason.Unauthorized,
            429 => ProviderErrorReason.RateLimited,
            >= 500 => ProviderErrorReason.Transient,
            _ when text.Contains("rate limit") || text.Contains("too many requests") => ProviderErrorReason.RateLimited,
            _ when CapacityWords.Any(text.Contains) => ProviderErrorReason.InsufficientCapacity,
            _ when QuotaWords.Any(text.Contains) || code == 402 => ProviderErrorReason.QuotaExceeded,
            _ => ProviderHttpClient.ReasonOf(status),
        };
        return new ProviderException(reason, $"{provider}: TensorDock answered {code}: {message}");
    }
}
