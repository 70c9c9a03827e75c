using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atoll.Core.Contracts;

namespace Atoll.Agent.Tests;

/// <summary>
/// Answers the agent's two calls the way the server documents them (JSON, problem+json on errors), and can be
/// told to be unreachable or to revoke the node.
/// </summary>
internal sealed class FakeControlPlane : HttpMessageHandler
{
    public ConcurrentQueue<(string Path, string? Bearer, string Body)> Calls { get; } = new();

    /// <summary>Heartbeats to fail with a connection error before answering again.</summary>
    public int UnreachableFor { get; set; }

    public bool Revoked { get; set; }

    public HttpStatusCode? RegisterStatus { get; set; }

    /// <summary>Registrations to take and then drop the connection on, as a lost answer looks to the agent.</summary>
    public int LoseRegisterAnswers { get; set; }

    public int Heartbeats => Calls.Count(c => c.Path.EndsWith("heartbeat", StringComparison.Ordinal));

    public int Registrations => Calls.Count(c => c.Path.EndsWith("register", StringComparison.Ordinal));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var path = request.RequestUri!.AbsolutePath;
        Calls.Enqueue((path, request.Headers.Authorization?.Parameter, body));
        if (path.EndsWith("register", StringComparison.Ordinal))
        {
            if (RegisterStatus is { } status)
            {
                return Problem(status, "join token has no uses left");
            }
            if (LoseRegisterAnswers > 0)
            {
                LoseRegisterAnswers--;
                throw new HttpRequestException("An error occurred while sending the request. (Connection reset by peer)");
            }
            var name = JsonDocument.Parse(body).RootElement.GetProperty("name").GetString()!;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(new RegisterNodeResponse(name, "atoll_node_secret", 1)) };
        }
        if (UnreachableFor > 0)
        {
            UnreachableFor--;
            throw new HttpRequestException("Connection refused (127.0.0.1:7070)");
        }
        return Revoked
            ? Problem(HttpStatusCode.Unauthorized, "node credential is not valid")
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(new HeartbeatResponse(1)) };
    }

    private static HttpResponseMessage Problem(HttpStatusCode status, string detail) =>
        new(status) { Content = new StringContent($"{{\"status\":{(int)status},\"detail\":\"{detail}\"}}", System.Text.Encoding.UTF8, "application/problem+json") };
}
