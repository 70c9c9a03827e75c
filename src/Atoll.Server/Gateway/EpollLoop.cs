using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Atoll.Server.Gateway;

/// <summary>What an <see cref="EpollLoop"/> calls, on its thread, when epoll reports the handler's socket.</summary>
internal interface IEpollHandler
{
    /// <summary>
    /// Bytes, the peer's close or an error arrived: a read would not block. <paramref name="closed"/>: the peer's
    /// close or an error came with them, so a read that comes back short does not mean the socket is empty (the end
    /// is still to be read, and no further report will come for it).
    /// </summary>
    void OnReadable(bool closed);

    /// <summary>The socket has room to send again, or its connect ended (either way).</summary>
    void OnWritable();
}

/// <summary>
/// The gateway's own event loops for its connections to model servers (<see cref="EpollStream"/>) and to clients
/// (<see cref="EpollConnection"/>): a thread per loop waiting in <c>epoll_wait</c> on edge-triggered sockets. The runtime's sockets try each receive before they wait
/// on their own epoll, so every read that comes before its bytes costs a system call that finds nothing; a socket on
/// these loops is read only after epoll said it has bytes, until a read comes back short (nginx's rule).
/// Measured (bench/results/gateway-epoll-2026-12-02.md): a minimal .NET forward used 0.0322 ms of CPU per request
/// with its model-server connections on such a loop against 0.0365 on the runtime's sockets.
/// <para>
/// The loops are process-wide and started on first use, one per core (as the runtime's socket threads the server
/// sets, ServerProcess.PrepareRuntime: forwarded requests run on them); they never stop (like the runtime's own
/// socket engine). Linux on x86-64 only (the <c>epoll_event</c> layout); elsewhere <see cref="Available"/> is false
/// and the gateway stays on the runtime's sockets.
/// </para>
/// </summary>
internal sealed class EpollLoop
{
    private const uint EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;
    private const int EPOLL_CTL_ADD = 1, EPOLL_CLOEXEC = 0x80000;

    private static readonly Lazy<EpollLoop[]?> Loops = new(Start);
    private static int next;

    private readonly SafeFileHandle ep;
    private readonly Lock gate = new(); // for Add and Remove; the loop reads the slots without it
    private readonly Stack<int> free = new();
    private Slot[] slots = NewSlots(64, 0, []);
    private uint[] generations = new uint[64];
    private int used;

    private EpollLoop(SafeFileHandle ep) => this.ep = ep;

    /// <summary>Whether this machine runs the loops (Linux x86-64, and epoll could be created).</summary>
    public static bool Available => Loops.Value is not null;

    /// <summary>The loop for a new socket, taking turns.</summary>
    public static EpollLoop Next()
    {
        var loops = Loops.Value ?? throw new PlatformNotSupportedException("The gateway's epoll loops need Linux on x86-64.");
        return loops[(uint)Interlocked.Increment(ref next) % (uint)loops.Length];
    }

    private static EpollLoop[]? Start()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return null;
        }
        var loops = new EpollLoop[Math.Max(1, Environment.ProcessorCount)];
        for (var i = 0; i < loops.Length; i++)
        {
            var fd = epoll_create1(EPOLL_CLOEXEC);
            if (fd < 0)
            {
                foreach (var made in loops.AsSpan(0, i))
                {
                    made.ep.Dispose();
                }
                return null;
            }
            loops[i] = new EpollLoop(new SafeFileHandle(fd, ownsHandle: true));
        }
        for (var i = 0; i < loops.Length; i++)
        {
            new Thread(loops[i].Run) { IsBackground = true, Name = $"Atoll epoll {i}" }.Start();
        }
        return loops;
    }

    /// <summary>
    /// Watches <paramref name="socket"/> (non-blocking) for <paramref name="handler"/>, edge-triggered, for reads and
    /// writes; returns the key that <see cref="Remove"/> takes. Any thread.
    /// </summary>
    public ulong Add(SafeHandle socket, IEpollHandler handler)
    {
        ulong key;
        lock (gate)
        {
            var slot = free.Count > 0 ? free.Pop() : used++;
            if (slot == slots.Length)
            {
                // The loop may still read the old array: it holds the same slots, so it sees every change made after.
                Volatile.Write(ref slots, NewSlots(slot * 2, slot, slots));
                Array.Resize(ref generations, slot * 2);
            }
            if (++generations[slot] == 0)
            {
                generations[slot] = 1; // key 0 means "not on a loop"
            }
            slots[slot].Current = new Registration(handler, generations[slot]);
            key = ((ulong)generations[slot] << 32) | (uint)slot;
        }
        var ev = new EpollEvent { Events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, Data = key };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, socket, ref ev) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Remove(key);
            throw new IOException($"epoll_ctl failed (errno {errno})");
        }
        return key;
    }

    /// <summary>
    /// Stops calling the handler of <paramref name="key"/>. Call it before the socket is closed: an event taken from
    /// epoll for the old socket and looked up after this then finds no handler, or a later one under another key,
    /// and is dropped. A dispatch that looked the handler up just before may still call it once: handlers ignore
    /// calls after their socket ended.
    /// </summary>
    public void Remove(ulong key)
    {
        var slot = (int)(uint)key;
        lock (gate)
        {
            if (generations[slot] == (uint)(key >> 32) && slots[slot].Current is not null)
            {
                slots[slot].Current = null;
                free.Push(slot);
            }
        }
    }

    private void Run()
    {
        var events = new EpollEvent[256];
        while (true)
        {
            var n = epoll_wait(ep, events, events.Length, -1);
            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxSocket.EINTR)
                {
                    continue;
                }
                // Nothing else can fail on a valid epoll descriptor; without its loop the gateway cannot answer.
                Environment.FailFast($"epoll_wait failed (errno {errno}): the gateway's connections to model servers would stall.");
            }
            Dispatch(events, n);
        }
    }

    /// <summary>
    /// Calls the handlers of <paramref name="n"/> events. A method of its own, not part of <see cref="Run"/>'s loop: a
    /// method that never returns is only ever compiled by on-stack replacement, this one by the JIT's full tiering.
    /// </summary>
    private void Dispatch(EpollEvent[] events, int n)
    {
        var current = Volatile.Read(ref slots);
        for (var i = 0; i < n; i++)
        {
            var key = events[i].Data;
            var slot = (int)(uint)key;
            if (slot >= current.Length)
            {
                current = Volatile.Read(ref slots); // added after this batch began, in a larger array
            }
            // One read of the slot's registration: a removed handler is null, a later one of the slot has another generation.
            var registration = current[slot].Current;
            if (registration is null || registration.Generation != (uint)(key >> 32))
            {
                continue;
            }
            var handler = registration.Handler;
            // Code a completion runs inline runs here: an exception that escapes it ends the process, as on the
            // runtime's socket threads (async methods keep theirs in their tasks).
            var what = events[i].Events;
            if ((what & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0)
            {
                handler.OnWritable();
            }
            if ((what & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0)
            {
                handler.OnReadable(closed: (what & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) != 0);
            }
        }
    }

    /// <summary>A larger array of slots: the first <paramref name="kept"/> are those of <paramref name="old"/>, the rest new.</summary>
    private static Slot[] NewSlots(int length, int kept, Slot[] old)
    {
        var made = new Slot[length];
        Array.Copy(old, made, kept);
        for (var i = kept; i < length; i++)
        {
            made[i] = new Slot();
        }
        return made;
    }

    /// <summary>A socket's place on the loop; arrays of slots share them, so a resize loses no change.</summary>
    private sealed class Slot
    {
        public volatile Registration? Current;
    }

    /// <summary>The handler a slot calls, and the generation of the key it was added under (both read at once).</summary>
    private sealed record Registration(IEpollHandler Handler, uint Generation);

    /// <summary>The x86-64 layout of <c>struct epoll_event</c> (packed: 12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_ctl(SafeFileHandle ep, int op, SafeHandle fd, ref EpollEvent ev);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_wait(SafeFileHandle ep, [Out] EpollEvent[] events, int max, int timeout);
}
