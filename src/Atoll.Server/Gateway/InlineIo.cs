using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using System.Runtime.CompilerServices;

namespace Atoll.Server.Gateway;

/// <summary>
/// Runs the gateway's own socket I/O on the runtime's socket event threads instead of handing every completion to
/// the thread pool. A proxied request otherwise wakes four to five pool threads (client read, dispatch, upstream
/// read, response write); on a small or virtualized machine those wake-ups cost more CPU than the forwarding itself
/// (measured: 0.24 → 0.14 ms of CPU per request, p99 overhead +5 → +0.7 ms; bench/results/gateway-*.md).
/// <para>
/// The server's own transport (<see cref="EpollConnection"/>) has the same switch, on its loop threads.
/// </para>
/// <para>
/// Only the gateway's sockets opt in, one socket at a time: its upstream connections, and a client connection
/// while it carries forwarded /v1 requests over HTTP/1.1. Everything else (control API, database, object store,
/// cloud APIs) keeps the runtime's default, so work that may block never runs on an event thread; a client
/// connection that switches to a control request is switched back first (<see cref="LeaveEventThread"/>).
/// </para>
/// <para>
/// The per-socket switch is internal to .NET (<c>Socket.PreferInlineCompletions</c>; the process-wide
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> sets the same flag on every socket). When a runtime no
/// longer has it, <see cref="TrySet(Socket, bool)"/> returns false and the gateway runs on the thread pool as before.
/// </para>
/// </summary>
internal static class InlineIo
{
    private static volatile bool missing;

    /// <summary>Whether the runtime has the per-socket switch (false after the first failed attempt).</summary>
    public static bool Available => !missing;

    /// <summary>Asks <paramref name="socket"/> to complete its operations on the event thread; false when unsupported.</summary>
    public static bool TrySet(Socket socket, bool inline)
    {
        if (missing)
        {
            return false;
        }
        try
        {
            SetPreferInlineCompletions(socket, inline);
            return true;
        }
        catch (MissingMethodException)
        {
            missing = true;
            return false;
        }
    }

    /// <summary>
    /// Switches the client connection behind <paramref name="features"/> (a connection's or a request's): an
    /// <see cref="EpollConnection"/> of the server's own transport, or a runtime socket. False when it has neither or
    /// the runtime lacks the switch.
    /// </summary>
    public static bool TrySet(IFeatureCollection features, bool inline)
    {
        if (features.Get<EpollConnection>() is { } epoll)
        {
            epoll.Inline = inline;
            return true;
        }
        return features.Get<IConnectionSocketFeature>()?.Socket is { } socket && TrySet(socket, inline);
    }

    /// <summary>Whether the switch works in this runtime, tried on a fresh socket.</summary>
    public static bool Probe()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        return TrySet(socket, inline: false);
    }

    /// <summary>
    /// Continues on a thread-pool thread when awaited on a socket event thread (any thread outside the pool), so code
    /// after it may block without stalling other connections' I/O; on a pool thread it continues at once.
    /// <para>
    /// An awaiter of its own, whose continuation is the caller's: an async method that awaited <c>Task.Yield()</c>
    /// inside could finish on the pool before its caller's <c>await</c> looked at it, and the caller then went on
    /// synchronously, still on the event thread (seen once on a loaded machine, in
    /// <c>InlineIoTests.Leaving_the_event_thread_continues_on_the_pool</c>).
    /// </para>
    /// </summary>
    public static EventThreadExit LeaveEventThread() => default;

    /// <summary>The awaitable of <see cref="LeaveEventThread"/>.</summary>
    public readonly struct EventThreadExit : ICriticalNotifyCompletion
    {
        public EventThreadExit GetAwaiter() => this;

        public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) =>
            ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

        public void UnsafeOnCompleted(Action continuation) =>
            ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetPreferInlineCompletions(Socket socket, bool value);
}
