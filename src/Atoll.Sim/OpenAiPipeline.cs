using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Atoll.Sim;

/// <summary>
/// What every OpenAI endpoint does around its own work: readiness, body reading, error answers in OpenAI's
/// shape, telling a client that went away from a server that is stopping, and counting the outcome.
/// </summary>
internal static class OpenAiPipeline
{
    /// <summary>Outcome of a request whose connection was dropped on purpose (failure injection or shutdown).</summary>
    public const string Aborted = "aborted";

    public const string Ok = "200";

    private const string Cancelled = "cancelled";

    /// <param name="handle">Gets the body and the arrival timestamp; returns the outcome for <c>atoll_sim_requests_total</c>.</param>
    public static async Task RunAsync(HttpContext ctx, SimRuntime sim, Func<JsonElement, long, CancellationToken, Task<string>> handle)
    {
        var arrived = sim.Time.GetTimestamp();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, sim.Stopping);
        var ct = cts.Token;
        var status = "500";
        try
        {
            try
            {
                if (!sim.IsReady)
                {
                    throw OpenAiException.NotReady();
                }
                using var body = await RequestBody.ReadAsync(ctx, sim.Options.MaxBodyBytes, ct).ConfigureAwait(false);
                status = await handle(body.RootElement, arrived, ct).ConfigureAwait(false);
            }
            catch (OpenAiException error) when (!ctx.Response.HasStarted)
            {
                status = error.StatusText;
                await JsonResponse.WriteErrorAsync(ctx, error, ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && ctx.RequestAborted.IsCancellationRequested)
        {
            status = Cancelled;
            sim.Metrics.RequestCancelled();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && sim.Stopping.IsCancellationRequested)
        {
            // Shutting down: in-flight requests (a hang above all) end now instead of holding the stop for the host's timeout.
            status = Aborted;
            ctx.Abort();
        }
        finally
        {
            sim.Metrics.RequestEnded(status);
        }
    }
}
