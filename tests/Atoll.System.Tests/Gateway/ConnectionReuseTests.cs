using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;

namespace Atoll.System.Tests.Gateway;

/// <summary>
/// A client connection that carries forwarded /v1 requests runs its I/O on the socket event thread; the gateway
/// switches it back before a control request on the same connection. Both kinds, in turn and streamed, must keep
/// working over that one connection.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ConnectionReuseTests(SharedGatewayFixture shared)
{
    [Fact]
    public async Task One_keep_alive_connection_carries_forwarded_and_control_requests_in_turn()
    {
        var connections = 0;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, ct) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(shared.Server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", shared.Server.AdminToken);

        for (var round = 0; round < 3; round++)
        {
            using (var chat = await http.PostAsJsonAsync("/v1/chat/completions", Chat.Request($"round {round}", 3)))
            {
                Chat.AssertComplete(chat.StatusCode, await chat.Content.ReadAsStringAsync(), 3);
            }
            using (var nodes = await http.GetAsync("/api/v1/nodes"))
            {
                Assert.Equal(HttpStatusCode.OK, nodes.StatusCode);
            }
            using (var stream = await http.PostAsJsonAsync("/v1/chat/completions", Chat.Request($"stream {round}", 2, stream: true)))
            {
                Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
                Assert.Equal("[DONE]", Chat.DataLines(await stream.Content.ReadAsStringAsync())[^1]);
            }
            using (var models = await http.GetAsync("/v1/models"))
            {
                Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            }
        }
        Assert.Equal(1, connections);
    }
}
