using System.Net.Http.Json;
using System.Text;
using Atoll.Core.Contracts;
using Atoll.Core.Security;
using Atoll.Testing;

namespace Atoll.Server.Tests;

public sealed class AuthTests
{
    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Admin_token_is_written_once_with_mode_0600_and_survives_a_restart(string engine)
    {
        string token;
        string dataDir;
        await using (var host = await ServerHost.StartAsync(engine))
        {
            token = host.AdminToken;
            dataDir = host.DataDir;
            Assert.StartsWith(Tokens.AdminPrefix, token);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(host.Options.AdminTokenPath));
            using var admin = host.Admin();
            Assert.True((await admin.GetAsync("/api/v1/nodes")).IsSuccessStatusCode);

            if (engine == StoreEngines.Sqlite)
            {
                var bytes = ReadAllStoreBytes(dataDir);
                Assert.False(Contains(bytes, token), "plaintext admin token found in the SQLite files");
                Assert.True(Contains(bytes, Tokens.Hash(token)), "the token's hash should be what is stored");
            }
        }
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Api_refuses_missing_wrong_and_join_tokens_with_problem_details(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        using var anonymous = host.Client();
        Assert.Contains("missing 'Authorization: Bearer", await Problem.DetailAsync(await anonymous.GetAsync("/api/v1/nodes"), 401));

        using var wrong = host.Client(Tokens.New(Tokens.AdminPrefix));
        Assert.Contains("token is not valid", await Problem.DetailAsync(await wrong.GetAsync("/api/v1/nodes"), 401));

        using var join = host.Client(await host.CreateJoinTokenAsync());
        Assert.Contains("join token can only register a node", await Problem.DetailAsync(await join.GetAsync("/api/v1/nodes"), 401));
    }

    [Theory]
    [MemberData(nameof(StoreEngines.All), MemberType = typeof(StoreEngines))]
    public async Task Node_credential_acts_only_for_its_own_node(string engine)
    {
        await using var host = await ServerHost.StartAsync(engine);
        var a = await host.JoinAsync("node-a");
        await host.JoinAsync("node-b");

        Assert.Contains("cannot report for node 'node-b'", await Problem.DetailAsync(await host.HeartbeatAsync(a, "node-b"), 403));
        using var asNode = host.Client(a);
        Assert.Contains("needs the admin token", await Problem.DetailAsync(await asNode.GetAsync("/api/v1/nodes"), 403));
        Assert.Contains("needs the admin token", await Problem.DetailAsync(
            await asNode.PostAsJsonAsync("/api/v1/join-tokens", new CreateJoinTokenRequest(1, "1h", null, null)), 403));
        using var admin = host.Admin();
        Assert.Contains("for node agents only", await Problem.DetailAsync(
            await admin.PostAsJsonAsync("/api/v1/agent/heartbeat", new HeartbeatRequest("node-a", ServerHost.Gpus(1), [])), 403));

        // node-b was not touched by node-a's attempt.
        Assert.Equal(8, (await host.GetNodeAsync("node-b")).Gpu.Gpus.Count);
    }

    private static byte[] ReadAllStoreBytes(string dataDir) =>
        [.. Directory.GetFiles(dataDir, "atoll.db*").SelectMany(f =>
        {
            using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        })];

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
