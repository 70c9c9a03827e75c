using Atoll.Core.Contracts;
using Atoll.Core.Batch;
using Atoll.Server.Api;
using Atoll.Server.Auth;
using Atoll.Storage.Objects;
using Atoll.Storage.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Atoll.Server.Batch;

/// <summary>
/// What batch workers on nodes call: long-poll for a lease, heartbeat it, complete or fail it. Inputs and results
/// move through signed URLs, so workers hold no database or storage credentials; completion is fenced by the
/// lease token.
/// </summary>
internal static class LeaseEndpoints
{
    public static void MapLeaseEndpoints(this IEndpointRouteBuilder app)
    {
        var leases = app.MapGroup("/api/v1/agent/leases").RequireAuthorization(AuthPolicies.Node);
        leases.MapPost("/", ClaimAsync);
        leases.MapPost("/{batchId}/{seq:int}/heartbeat", HeartbeatAsync);
        leases.MapPost("/{batchId}/{seq:int}/complete", CompleteAsync);
        leases.MapPost("/{batchId}/{seq:int}/fail", FailAsync);
    }

    private static async Task<IResult> ClaimAsync(HttpContext http, IStateStore store, IObjectStore objects, WorkSignal work,
        IOptions<ServerOptions> options, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        var node = http.User.FindFirst(AuthPolicies.NodeNameClaim)!.Value;
        var (request, error) = await JsonBody.ReadAsync<LeaseRequest>(http.Request, http.RequestAborted).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }
        if (request!.Models is not { Count: > 0 })
        {
            return Problems.BadRequest("models is required: the model names this node serves");
        }
        var settings = options.Value.Batch;
        var wait = TimeSpan.FromSeconds(Math.Clamp(request.WaitSeconds, 0, (int)settings.MaxLeaseWait.TotalSeconds));
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            var next = work.NextAsync();
            var lease = await store.Batches.ClaimAsync(node, request.Models, time.GetUtcNow(), settings.LeaseDuration, http.RequestAborted).ConfigureAwait(false);
            if (lease is not null)
            {
                return Results.Ok(Grant(lease, objects, settings));
            }
            var left = deadline - time.GetUtcNow();
            // A stopping server answers "no work" at once rather than holding its shutdown for the rest of the long poll.
            if (left <= TimeSpan.Zero || lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return Results.NoContent();
            }
            // Woken by work on this server; the 1 s bound covers work queued through another server.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
            await Task.WhenAny(next, Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), time, either.Token)).ConfigureAwait(false);
            http.RequestAborted.ThrowIfCancellationRequested();
        }
    }

    private static async Task<IResult> HeartbeatAsync(HttpContext http, string batchId, int seq, IStateStore store, IOptions<ServerOptions> options,
        TimeProvider time)
    {
        var (update, error) = await JsonBody.ReadAsync<LeaseUpdate>(http.Request, http.RequestAborted).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }
        var settings = options.Value.Batch;
        var now = time.GetUtcNow();
        var status = await store.Batches.HeartbeatAsync(batchId, seq, update!.LeaseToken, now, settings.LeaseDuration, http.RequestAborted).ConfigureAwait(false);
        if (status == LeaseStatus.Cancelled)
        {
            // Give the chunk back at once so a cancel or expiry does not wait for the lease to run out.
            var batch = await store.Batches.GetBatchAsync(batchId, http.RequestAborted).ConfigureAwait(false);
            var reason = batch?.ExpiredAt is not null ? BatchResultCodes.BatchExpired : BatchResultCodes.BatchCancelled;
            await store.Batches.FailAttemptAsync(batchId, seq, update.LeaseToken, reason, int.MaxValue, http.RequestAborted).ConfigureAwait(false);
        }
        return Results.Ok(status switch
        {
            LeaseStatus.Extended => new LeaseState(LeaseState.Extended, now + settings.LeaseDuration),
            LeaseStatus.Cancelled => new LeaseState(LeaseState.Cancelled, null),
            _ => new LeaseState(LeaseState.Lost, null),
        });
    }

    private static async Task<IResult> CompleteAsync(HttpContext http, string batchId, int seq, IStateStore store, IObjectStore objects, WorkSignal work)
    {
        var (update, error) = await JsonBody.ReadAsync<LeaseUpdate>(http.Request, http.RequestAborted).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }
        var key = BatchObjects.ResultKey(batchId, seq, update!.LeaseToken);
        if (await objects.StatAsync(key, http.RequestAborted).ConfigureAwait(false) is null)
        {
            return Problems.BadRequest("no result was uploaded for this lease: PUT the result JSONL to the lease's resultUrl first");
        }
        if (!await store.Batches.CompleteAsync(batchId, seq, update.LeaseToken, key, update.Succeeded, update.Failed, http.RequestAborted).ConfigureAwait(false))
        {
            return Problems.Conflict($"lease on {batchId}/{seq} is no longer yours (it expired and was given to another worker); the result is discarded");
        }
        work.Pulse();
        return Results.NoContent();
    }

    private static async Task<IResult> FailAsync(HttpContext http, string batchId, int seq, IStateStore store, WorkSignal work, IOptions<ServerOptions> options)
    {
        var (update, error) = await JsonBody.ReadAsync<LeaseUpdate>(http.Request, http.RequestAborted).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }
        var reason = string.IsNullOrWhiteSpace(update!.Error) ? "worker reported a failure" : update.Error[..Math.Min(update.Error.Length, 500)];
        if (!await store.Batches.FailAttemptAsync(batchId, seq, update.LeaseToken, reason, options.Value.Batch.MaxAttempts, http.RequestAborted).ConfigureAwait(false))
        {
            return Problems.Conflict($"lease on {batchId}/{seq} is no longer yours");
        }
        work.Pulse();
        return Results.NoContent();
    }

    private static LeaseGrant Grant(ChunkLease lease, IObjectStore objects, BatchOptions settings)
    {
        // A slow but heartbeating worker keeps extending its lease, not its URLs: give them hours, not a lease's span.
        // They name one object each, and the result object is keyed by this lease's token.
        var ttl = settings.LeaseDuration * 10 > TimeSpan.FromHours(6) ? settings.LeaseDuration * 10 : TimeSpan.FromHours(6);
        return new LeaseGrant(lease.BatchId, lease.Seq, lease.LeaseToken, lease.Attempt, lease.ExpiresAt, (int)settings.LeaseDuration.TotalSeconds,
            lease.Endpoint, lease.Model, objects.SignedGetUrl(lease.InputObjectKey, ttl), lease.StartOffset, lease.EndOffset, lease.FirstLine,
            lease.LineCount, objects.SignedPutUrl(BatchObjects.ResultKey(lease.BatchId, lease.Seq, lease.LeaseToken), ttl));
    }
}
