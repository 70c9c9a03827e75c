using Atoll.Core.Batch;
using Microsoft.Extensions.Logging;

namespace Atoll.Agent.BatchWorker;

/// <summary>
/// Runs one batch line against the local model server: 2xx → an output line; other 4xx → an error line with the
/// response (the request itself is wrong, retrying cannot help); no connection, timeouts, 408, 429 and 5xx →
/// retried with doubling delays, then <see cref="AttemptFailedException"/> fails the whole attempt.
/// </summary>
internal sealed class LineRunner(
    LocalModelClient model, LocalLoadMonitor load, int yieldAbove, int maxRetries, TimeSpan retryDelay, TimeProvider time, ILogger logger)
{
    /// <summary>The line's result line, and whether it is a success.</summary>
    public async Task<(byte[] Line, bool Success)> RunAsync(BatchRequestLine line, Uri url, CancellationToken ct)
    {
        var delay = retryDelay;
        for (var attempt = 1; ; attempt++)
        {
            await load.WaitUntilQuietAsync(yieldAbove, ct).ConfigureAwait(false);
            string problem;
            load.RequestStarted();
            try
            {
                var answer = await model.SendAsync(url, line.Body, ct).ConfigureAwait(false);
                if (answer.IsSuccess)
                {
                    return (BatchResultLine.Success(line.CustomId, answer.StatusCode, answer.RequestId, answer.Body), true);
                }
                if (!answer.IsRetryable)
                {
                    return (BatchResultLine.ErrorResponse(line.CustomId, answer.StatusCode, answer.RequestId, answer.Body), false);
                }
                problem = $"the model server answered HTTP {answer.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                problem = $"the model server could not be reached ({e.Message})";
            }
            catch (TimeoutException e)
            {
                problem = $"the model server gave {e.Message}";
            }
            finally
            {
                load.RequestEnded();
            }
            if (attempt > maxRetries)
            {
                throw new AttemptFailedException($"request {line.CustomId}: {problem} on {attempt} attempt(s)");
            }
            logger.LogDebug("Batch request {CustomId}: {Problem}; retrying in {Delay:F1}s", line.CustomId, problem, delay.TotalSeconds);
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
            delay *= 2;
        }
    }
}
