using System.Net;
using Atoll.Testing.Processes;

namespace Atoll.System.Tests.Gateway;

/// <summary>A real <c>atoll sim</c> process on a free port, ready (GET /health 200) once started.</summary>
internal sealed class RunningSim : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private RunningSim(AtollProcess process, int port, string model, string instance)
    {
        Process = process;
        Port = port;
        Model = model;
        Instance = instance;
    }

    public AtollProcess Process { get; }

    public int Port { get; }

    public string Model { get; }

    /// <summary>The name the sim sends in <c>x-atoll-instance</c>.</summary>
    public string Instance { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>The gateway's name of this sim's endpoint (what <c>x-atoll-endpoint</c> and the metrics call it), once registered.</summary>
    public string EndpointId { get; set; } = "(not registered)";

    /// <summary>The <c>--endpoint</c> argument of <c>atoll server</c> for this sim.</summary>
    public string EndpointArgument => $"{Model}={Url}";

    /// <summary>Starts <c>atoll sim --model MODEL --instance INSTANCE EXTRA</c> on a free port; see <see cref="WaitHealthyAsync"/>.</summary>
    public static RunningSim Start(string model, string instance, string logDir, params string[] extra)
    {
        var port = FreePorts.Next();
        var process = AtollCli.Start(
            ["sim", "--port", port.ToString(), "--model", model, "--instance", instance, .. ProcessWait.ExitWithTestHost, .. extra],
            logPath: Path.Combine(logDir, $"sim-{instance}.log"));
        return new RunningSim(process, port, model, instance);
    }

    /// <summary>Waits until GET /health answers 200; fails at once if the sim exits.</summary>
    public Task WaitHealthyAsync() =>
        ProcessWait.UntilAsync(Process, async () =>
        {
            using var response = await Http.GetAsync(new Uri(Url + "/health"));
            return response.StatusCode == HttpStatusCode.OK;
        }, RunningServer.StartTimeout, $"{Process} answers GET /health with 200");

    /// <summary>Sum of a sim metric over its label sets.</summary>
    public async Task<double> MetricAsync(string name) =>
        Prometheus.Sum(await Http.GetStringAsync(new Uri(Url + "/metrics")), name);

    /// <summary>SIGKILL: no goodbye, connections reset, the port refuses.</summary>
    public void Kill() => Process.SendSignal(Signals.Kill);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
