using System.Diagnostics;
using Prometheus;

namespace Atoll.Server.Gateway;

/// <summary>Records the time to the first byte sent to the client in the model's histogram (a struct: no closure per request).</summary>
internal readonly struct FirstByteTimer(Histogram.Child histogram, long started)
{
    public void Observe() => histogram.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
}
