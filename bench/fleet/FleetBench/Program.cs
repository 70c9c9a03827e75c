// Fleet decision benchmark: OfferSelector.Select over a 20,000-offer catalog, and a reconcile decision pass over
// 2,000 claims in 20 pools (PoolScaler.Plan + ClaimTimeouts.Expired per claim, then one selection per short pool).
// Prints a Markdown table with the targets and PASS/FAIL; exits 1 when a target is missed. Run it with bench/fleet/run.sh.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Atoll.Core.Contracts;
using Atoll.Core.Fleet;
using FleetBench;

var offerCount = Arg("--offers", 20_000);
var decisions = Arg("--decisions", 200);
var claimCount = Arg("--claims", 2_000);
var poolCount = Arg("--pools", 20);
var passes = Arg("--passes", 50);
const double SelectTargetMs = 5, PassTargetMs = 200;

var random = new Random(42);
var offers = Synthetic.Offers(offerCount, random);
var pools = Synthetic.Pools(poolCount);
var now = DateTimeOffset.UtcNow;
var claims = Synthetic.Claims(claimCount, pools, now, random);
var idle = claims.Where((_, i) => i % 10 == 0).Select(c => c.NodeName!).ToHashSet();

// 1% of the offers failed recently and one provider is out of spot quota, so the cache is on the hot path.
var cache = new UnavailableOffers(TimeProvider.System, TimeSpan.FromHours(1));
for (var i = 0; i < offers.Length; i += 100)
{
    cache.Mark(offers[i], ProviderErrorReason.InsufficientCapacity, "bench");
}
cache.MarkProvider("tensordock", CapacityTypes.Spot, ProviderErrorReason.QuotaExceeded, "bench");
var excluded = offers.Take(5).Select(o => o.Key).ToHashSet();

var rows = new List<string[]>();
var failed = false;

Selection("8x H100 or H200 from 3 providers", pools[0], new PoolUsage(16, 80m));
Selection("1x any model from 3 providers", pools[3], PoolUsage.None);
Selection("8x any model from all 7 providers", pools[0] with { Providers = Synthetic.Providers, GpuModels = [] }, PoolUsage.None);
Selection("nothing fits (maxPricePerHour 0.01)", pools[0] with { MaxPricePerHour = 0.01m }, PoolUsage.None);

var byPool = claims.GroupBy(c => c.Pool).ToDictionary(g => g.Key, g => (IReadOnlyList<NodeClaim>)g.ToArray());
Pass($"reconcile pass: plan + timeouts, {claimCount:N0} claims in {poolCount} pools", select: false);
Pass($"reconcile pass: plus one selection per short pool", select: true);

Console.WriteLine($"Catalog: {offers.Length:N0} offers from {Synthetic.Providers.Length} providers ({offers.Count(o => o.GpuCount > 0):N0} GPU, "
    + $"{offers.Count(o => o.CapacityType == CapacityTypes.Spot):N0} spot, {offers.Count(o => !o.Available):N0} without capacity); "
    + $"{cache.Entries().Count} unavailable-cache entries; {excluded.Count} excluded keys.");
Console.WriteLine($"Runtime: {RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} cores, workstation GC, Release build.");
Console.WriteLine($"Selection: {decisions} timed decisions per row, reconcile: {passes} timed passes per row, each after at least 1 s of warm-up calls.");
Console.WriteLine();
Console.WriteLine("| Measurement | Matching offers | median ms | p99 ms | max ms | CPU median ms | CPU p99 ms | allocated per op | target | result |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
foreach (var row in rows)
{
    Console.WriteLine("| " + string.Join(" | ", row) + " |");
}
return failed ? 1 : 0;

void Selection(string name, PoolPolicy pool, PoolUsage usage)
{
    OfferSelection? last = null;
    Warm(() => last = OfferSelector.Select(pool, offers, usage, cache, excluded));
    var (times, cpu) = (new double[decisions], new double[decisions]);
    var before = GC.GetAllocatedBytesForCurrentThread();
    for (var i = 0; i < decisions; i++)
    {
        var (start, startCpu) = (Stopwatch.GetTimestamp(), ThreadClock.NowMs());
        last = OfferSelector.Select(pool, offers, usage, cache, excluded);
        (times[i], cpu[i]) = (Stopwatch.GetElapsedTime(start).TotalMilliseconds, ThreadClock.NowMs() - startCpu);
    }
    var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / decisions;
    Row($"select: {name}", last!.Matching.ToString("N0"), times, cpu, allocated, SelectTargetMs);
}

void Pass(string name, bool select)
{
    var created = 0;
    Warm(() => created = Reconcile(select));
    var (times, cpu) = (new double[passes], new double[passes]);
    var before = GC.GetAllocatedBytesForCurrentThread();
    for (var i = 0; i < passes; i++)
    {
        var (start, startCpu) = (Stopwatch.GetTimestamp(), ThreadClock.NowMs());
        created = Reconcile(select);
        (times[i], cpu[i]) = (Stopwatch.GetElapsedTime(start).TotalMilliseconds, ThreadClock.NowMs() - startCpu);
    }
    var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / passes;
    Row(name, select ? $"{created} selections" : "-", times, cpu, allocated, PassTargetMs);
}

// The runtime compiles hot methods again with full optimization only after 30 calls and a quiet 100 ms, in the
// background: warm up for a second of calls and give that compiler a moment, so that tier-0 code is not timed.
static void Warm(Action action)
{
    var start = Stopwatch.GetTimestamp();
    for (var i = 0; i < 50 || Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(1); i++)
    {
        action();
    }
    Thread.Sleep(300);
    action();
}

// One decision pass as a reconciler makes it: per pool, the timeouts of each claim, the usage, the scale plan,
// and (with select) the offer for the pool's next claim when it is short.
int Reconcile(bool select)
{
    var selections = 0;
    var expired = 0;
    foreach (var pool in pools)
    {
        var mine = byPool.TryGetValue(pool.Name, out var list) ? list : [];
        foreach (var claim in mine)
        {
            if (ClaimTimeouts.Expired(claim, pool, now) is not null)
            {
                expired++;
            }
        }
        var plan = PoolScaler.Plan(pool, mine, idle);
        if (select && plan.ToCreate > 0)
        {
            OfferSelector.Select(pool, offers, PoolUsage.Of(mine), cache);
            selections++;
        }
    }
    GC.KeepAlive(expired);
    return selections;
}

// Judged on the wall-clock p99. When only CPU time meets the target, the row says so: the thread spent the rest
// waiting for a core that other work on the machine held.
void Row(string name, string matching, double[] times, double[] cpu, long allocated, double target)
{
    Array.Sort(times);
    Array.Sort(cpu);
    var p99 = Percentile(times, 0.99);
    var cpuP99 = Percentile(cpu, 0.99);
    var result = p99 < target ? "PASS" : cpuP99 < target ? "FAIL (wall; CPU time passes)" : "FAIL";
    failed |= p99 >= target;
    rows.Add([name, matching, Ms(Percentile(times, 0.5)), Ms(p99), Ms(times[^1]), Ms(Percentile(cpu, 0.5)), Ms(cpuP99),
        allocated < 10_000 ? $"{allocated:N0} B" : $"{allocated / 1024.0:N0} KiB", $"p99 < {target:0} ms", result]);
}

static double Percentile(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * q) - 1, 0, sorted.Length - 1)];

static string Ms(double value) => value.ToString("0.000");

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var value) ? value : fallback;
}
