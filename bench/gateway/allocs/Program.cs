// Allocation profile of a running .NET process by type: listens to the runtime's GC AllocationTick events (one per
// ~100 KB allocated, naming the type that crossed the mark) for SECONDS and prints the types with their share.
//   allocs PID SECONDS [TRACE-FILE]
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

if (args.Length < 2 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out var pid) || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var seconds))
{
    Console.Error.WriteLine("usage: allocs PID SECONDS [TRACE-FILE]");
    return 2;
}
var file = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), $"allocs-{pid}.nettrace");
var client = new DiagnosticsClient(pid);
EventPipeProvider[] providers = [new("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GC)];
EventPipeSession started;
try
{
    started = client.StartEventPipeSession(providers, requestRundown: false);
}
catch (ServerNotAvailableException e)
{
    Console.Error.WriteLine($"allocs: no .NET process with a diagnostics port at pid {pid} ({e.Message}); is it running, as this user?");
    return 1;
}
using (var session = started)
{
    await using var output = File.Create(file);
    var copy = session.EventStream.CopyToAsync(output);
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    await session.StopAsync(CancellationToken.None);
    await copy;
}
var byType = new Dictionary<string, long>();
long total = 0;
var ticks = 0;
using (var source = new EventPipeEventSource(file))
{
    source.Clr.GCAllocationTick += e =>
    {
        byType[e.TypeName] = byType.GetValueOrDefault(e.TypeName) + e.AllocationAmount64;
        total += e.AllocationAmount64;
        ticks++;
    };
    source.Process();
}
Console.WriteLine($"allocation ticks {ticks}, {total / 1024} KB in {seconds} s");
foreach (var (type, bytes) in byType.OrderByDescending(kv => kv.Value).Take(30))
{
    Console.WriteLine($"{bytes * 100.0 / Math.Max(total, 1),6:F1} %  {bytes / 1024,9} KB  {type}");
}
return 0;
