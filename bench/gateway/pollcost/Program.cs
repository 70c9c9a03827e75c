// What one check of an idle pooled connection costs (Http1Connection.QuietSinceReturned, one per rented upstream
// connection): Socket.Poll(0, SelectRead) against the two other ways to ask the kernel, on a connected, idle
// loopback socket. Run: dotnet run -c Release --project bench/gateway/pollcost
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

using var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
using var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
client.Connect((IPEndPoint)listener.LocalEndpoint);
using var server = listener.AcceptSocket();
client.Blocking = false;
var buffer = new byte[1];
const int N = 200_000;
for (var round = 1; round <= 3; round++)
{
    var readable = 0;
    var t = Stopwatch.GetTimestamp();
    for (var i = 0; i < N; i++)
    {
        readable += client.Poll(0, SelectMode.SelectRead) ? 1 : 0;
    }
    var poll = Stopwatch.GetElapsedTime(t).TotalMicroseconds / N;
    t = Stopwatch.GetTimestamp();
    for (var i = 0; i < N; i++)
    {
        readable += client.Available;
    }
    var available = Stopwatch.GetElapsedTime(t).TotalMicroseconds / N;
    t = Stopwatch.GetTimestamp();
    for (var i = 0; i < N; i++)
    {
        readable += client.Receive(buffer, 0, 1, SocketFlags.Peek, out _);
    }
    var peek = Stopwatch.GetElapsedTime(t).TotalMicroseconds / N;
    Console.WriteLine($"round {round}: Poll {poll:0.000} µs, Available {available:0.000} µs, Receive(Peek) {peek:0.000} µs per call (readable: {readable}, expected 0)");
}
