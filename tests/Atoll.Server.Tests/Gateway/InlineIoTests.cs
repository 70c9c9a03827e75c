using System.Net;
using System.Net.Sockets;
using Atoll.Server.Gateway;

namespace Atoll.Server.Tests.Gateway;

/// <summary>
/// The per-socket switch the gateway relies on for its speed: if a runtime update drops or changes it, these fail
/// (the gateway would silently fall back to the thread pool and lose the measured gain).
/// </summary>
public sealed class InlineIoTests
{
    [Fact]
    public async Task A_switched_socket_completes_its_reads_on_the_event_thread_and_a_default_one_on_the_pool()
    {
        Assert.True(InlineIo.Available);
        Assert.False(await ReadCompletesOnPoolAsync(inline: true), "an inline socket's read continued on a thread-pool thread");
        Assert.True(await ReadCompletesOnPoolAsync(inline: false), "a default socket's read continued off the thread pool");
    }

    [Fact]
    public async Task Leaving_the_event_thread_continues_on_the_pool()
    {
        var (onPoolAfterLeaving, _) = await ReadThenAsync(inline: true, async () =>
        {
            Assert.False(Thread.CurrentThread.IsThreadPoolThread);
            await InlineIo.LeaveEventThread();
            return Thread.CurrentThread.IsThreadPoolThread;
        });
        Assert.True(onPoolAfterLeaving);
    }

    [Fact]
    public async Task Leaving_a_thread_outside_the_pool_always_continues_on_the_pool()
    {
        // Many times over, from threads of their own: the continuation must never run on the thread that awaited,
        // however the hop and the await interleave.
        for (var i = 0; i < 200; i++)
        {
            var outcome = await Task.Factory.StartNew(async () =>
            {
                var thread = Environment.CurrentManagedThreadId;
                await InlineIo.LeaveEventThread();
                return (Thread.CurrentThread.IsThreadPoolThread, Environment.CurrentManagedThreadId != thread);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            Assert.Equal((true, true), outcome);
        }
    }

    [Fact]
    public async Task Leaving_on_a_pool_thread_costs_no_hop()
    {
        var (before, after) = await Task.Run(async () =>
        {
            var thread = Environment.CurrentManagedThreadId;
            await InlineIo.LeaveEventThread();
            return (thread, Environment.CurrentManagedThreadId);
        });
        Assert.Equal(before, after);
    }

    private static async Task<bool> ReadCompletesOnPoolAsync(bool inline) =>
        (await ReadThenAsync(inline, () => Task.FromResult(Thread.CurrentThread.IsThreadPoolThread))).Result;

    /// <summary>
    /// Starts a read on a loopback socket switched as asked, lets it pend, then sends a byte from the peer; runs
    /// <paramref name="then"/> right where the read's continuation runs.
    /// </summary>
    private static async Task<(bool Result, int Read)> ReadThenAsync(bool inline, Func<Task<bool>> then)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.True(InlineIo.TrySet(client, inline));
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var peer = await listener.AcceptAsync();

        var buffer = new byte[1];
        async Task<(bool, int)> ReadAsync()
        {
            // Not back to the test framework's context: the code after the read runs where the read completed.
            var read = await client.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
            return (await then().ConfigureAwait(false), read);
        }
        var reading = ReadAsync();
        await Task.Delay(100); // the read is now waiting in the event loop, not completed at once
        Assert.False(reading.IsCompleted);
        await peer.SendAsync(new byte[] { 42 }, SocketFlags.None);
        var result = await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, result.Item2);
        return result;
    }
}
