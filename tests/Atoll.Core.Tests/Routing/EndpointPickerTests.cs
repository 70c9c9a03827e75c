using Atoll.Core.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Atoll.Core.Tests.Routing;

public sealed class EndpointPickerTests
{
    private readonly FakeTimeProvider time = new();
    private readonly PrefixIndex index = new();

    private EndpointPicker Picker(PickerOptions? options = null, int seed = 7) =>
        EndpointPicker.CreateDefault(options ?? new PickerOptions(), index, time, new Random(seed));

    private static string Prompt(char c) => new(c, 4 * PrefixHasher.BlockChars);

    [Fact]
    public void Prefers_the_less_loaded_endpoint()
    {
        var a = TestEndpoints.Create("a", time);
        var b = TestEndpoints.Create("b", time);
        TestEndpoints.Load(a, 8);
        TestEndpoints.Load(b, 2);

        var result = Picker().Pick(new RoutingRequest("llama"), [a, b]);

        Assert.True(result.IsPicked);
        Assert.Same(b, result.Endpoint);
    }

    [Fact]
    public void Prefers_the_endpoint_with_a_fresh_shorter_queue()
    {
        var a = TestEndpoints.Create("a", time);
        var b = TestEndpoints.Create("b", time);
        a.ReportQueue(waiting: 6, running: 16, time.GetUtcNow());
        b.ReportQueue(waiting: 0, running: 16, time.GetUtcNow());

        Assert.Same(b, Picker().Pick(new RoutingRequest("llama"), [a, b]).Endpoint);
    }

    [Fact]
    public void Prefers_the_endpoint_that_was_sent_the_prefix_before()
    {
        var a = TestEndpoints.Create("a", time);
        var b = TestEndpoints.Create("b", time);
        var request = RoutingRequest.ForPrompt("llama", Prompt('p'));
        index.Record("b", request.PrefixHashes);

        Assert.Same(b, Picker().Pick(request, [a, b]).Endpoint);
    }

    [Fact]
    public void Picking_records_the_prefix_so_the_same_prompt_sticks_to_one_endpoint()
    {
        RoutableEndpoint[] endpoints = [TestEndpoints.Create("a", time), TestEndpoints.Create("b", time), TestEndpoints.Create("c", time)];
        var picker = Picker();

        var first = picker.Pick(RoutingRequest.ForPrompt("llama", Prompt('q')), endpoints).Endpoint;
        for (var i = 0; i < 20; i++)
            Assert.Same(first, picker.Pick(RoutingRequest.ForPrompt("llama", Prompt('q')), endpoints).Endpoint);
        Assert.Equal(4, index.MatchedBlocks(first!.Id, PrefixHasher.Hash(Prompt('q'))));
    }

    [Fact]
    public void Same_location_wins_while_moderately_loaded_and_spills_over_when_much_busier_or_saturated()
    {
        var near = TestEndpoints.Create("near", time, location: "fra");
        var far = TestEndpoints.Create("far", time, location: "us-east");
        far.ReportRtt(TimeSpan.FromMilliseconds(100));
        var request = new RoutingRequest("llama") { ClientLocation = "fra" };
        var picker = Picker();

        Assert.Same(near, picker.Pick(request, [far, near]).Endpoint);
        TestEndpoints.Load(near, 4);
        Assert.Same(near, picker.Pick(request, [far, near]).Endpoint);
        TestEndpoints.Load(near, 10);
        Assert.Same(far, picker.Pick(request, [far, near]).Endpoint);
        TestEndpoints.Load(near, 2);
        Assert.Same(far, picker.Pick(request, [far, near]).Endpoint);
    }

    [Fact]
    public void A_heavier_distance_weight_keeps_traffic_near_until_saturation()
    {
        var near = TestEndpoints.Create("near", time, location: "fra");
        var far = TestEndpoints.Create("far", time, location: "us-east");
        far.ReportRtt(TimeSpan.FromMilliseconds(100));
        TestEndpoints.Load(near, 15);
        var options = new PickerOptions();
        options.Weights[ScorerNames.NetworkDistance] = 10;

        Assert.Same(near, Picker(options).Pick(new RoutingRequest("llama") { ClientLocation = "fra" }, [far, near]).Endpoint);
    }

    [Fact]
    public void Filters_out_other_models_not_ready_unhealthy_ejected_and_already_tried_endpoints()
    {
        var otherModel = TestEndpoints.Create("other", time, model: "mistral");
        var notReady = TestEndpoints.Create("not-ready", time);
        notReady.NodeReady = false;
        var unhealthy = TestEndpoints.Create("unhealthy", time);
        unhealthy.ServerHealthy = false;
        var ejected = TestEndpoints.Create("ejected", time);
        for (var i = 0; i < 3; i++)
            ejected.Health.RecordFailure();
        var tried = TestEndpoints.Create("tried", time);
        var good = TestEndpoints.Create("good", time);
        RoutableEndpoint[] all = [otherModel, notReady, unhealthy, ejected, tried, good];
        var request = new RoutingRequest("llama").Excluding("tried");
        var picker = Picker();

        for (var seed = 0; seed < 50; seed++)
            Assert.Same(good, picker.Pick(request, all).Endpoint);
        var counts = picker.Pick(request, all).Counts;
        Assert.Equal(new FilterCounts(ServingModel: 5, NotReady: 1, Unhealthy: 1, Ejected: 1, Excluded: 1, Saturated: 0, Candidates: 1), counts);
        // As the 503 message puts it: for people, only what removed something.
        Assert.Equal("5 endpoints: 1 not ready, 1 unhealthy, 1 ejected after failures, 1 already tried, 1 available", counts.Describe());
        Assert.Equal("1 endpoint: 1 unhealthy", new FilterCounts(1, 0, 1, 0, 0, 0, 0).Describe());
        Assert.Equal("no endpoint serves it", default(FilterCounts).Describe());
    }

    [Fact]
    public void Ejected_endpoint_is_picked_again_after_its_cooldown()
    {
        var ejected = TestEndpoints.Create("ejected", time);
        for (var i = 0; i < 3; i++)
            ejected.Health.RecordFailure();
        var request = new RoutingRequest("llama");

        Assert.Equal(PickOutcome.NoEndpoints, Picker().Pick(request, [ejected]).Outcome);
        time.Advance(new EjectionOptions().BaseCooldown);
        Assert.Same(ejected, Picker().Pick(request, [ejected]).Endpoint);
    }

    [Fact]
    public void No_endpoints_when_none_serves_the_model_or_none_is_usable()
    {
        var picker = Picker();
        var unhealthy = TestEndpoints.Create("a", time);
        unhealthy.ServerHealthy = false;
        var tried = TestEndpoints.Create("b", time);

        var none = picker.Pick(new RoutingRequest("gpt-x"), [unhealthy, tried]);
        Assert.Equal(PickOutcome.NoEndpoints, none.Outcome);
        Assert.Equal(0, none.Counts.ServingModel);
        Assert.Null(none.Endpoint);

        var unusable = picker.Pick(new RoutingRequest("llama").Excluding("b"), [unhealthy, tried]);
        Assert.Equal(PickOutcome.NoEndpoints, unusable.Outcome);
        Assert.Equal(2, unusable.Counts.ServingModel);
    }

    [Fact]
    public void All_saturated_when_every_usable_endpoint_is_at_capacity()
    {
        var full = TestEndpoints.Create("full", time, capacity: 2);
        TestEndpoints.Load(full, 2);
        var unhealthy = TestEndpoints.Create("unhealthy", time);
        unhealthy.ServerHealthy = false;

        var result = Picker().Pick(new RoutingRequest("llama"), [full, unhealthy]);

        Assert.Equal(PickOutcome.AllSaturated, result.Outcome);
        Assert.Equal(1, result.Counts.Saturated);
        Assert.False(result.IsPicked);
    }

    [Fact]
    public void Ties_are_spread_across_equal_endpoints()
    {
        RoutableEndpoint[] endpoints = [TestEndpoints.Create("a", time), TestEndpoints.Create("b", time), TestEndpoints.Create("c", time)];
        var picker = Picker(seed: 42);
        var picks = new Dictionary<string, int>();
        for (var i = 0; i < 1000; i++)
        {
            var id = picker.Pick(new RoutingRequest("llama"), endpoints).Endpoint!.Id;
            picks[id] = picks.GetValueOrDefault(id) + 1;
        }

        Assert.All(endpoints, e => Assert.InRange(picks.GetValueOrDefault(e.Id), 250, 420));
    }

    [Fact]
    public void Ties_between_two_endpoints_give_each_over_thirty_percent()
    {
        RoutableEndpoint[] endpoints = [TestEndpoints.Create("a", time), TestEndpoints.Create("b", time)];
        var picker = Picker(seed: 1);
        var a = Enumerable.Range(0, 1000).Count(_ => picker.Pick(new RoutingRequest("llama"), endpoints).Endpoint!.Id == "a");

        Assert.InRange(a, 300, 700);
    }

    [Fact]
    public void Result_explains_the_score_of_the_chosen_endpoint()
    {
        var a = TestEndpoints.Create("a", time, capacity: 4);
        TestEndpoints.Load(a, 1);

        var result = Picker().Pick(new RoutingRequest("llama"), [a]);

        Assert.Equal([ScorerNames.PrefixAffinity, ScorerNames.QueueDepth, ScorerNames.InFlight, ScorerNames.NetworkDistance], result.Scores.Select(s => s.Scorer));
        var inFlight = Assert.Single(result.Scores, s => s.Scorer == ScorerNames.InFlight);
        Assert.Equal(0.75, inFlight.Score, 9);
        Assert.Equal(2, inFlight.Weight);
        Assert.Equal(result.Scores.Sum(s => s.Weighted), result.Total, 9);
        Assert.Equal((0 * 2) + (0.5 * 1) + (0.75 * 2) + (0.5 * 1), result.Total, 9);

        // The gateway's per-request pick: the same endpoint and total, no breakdown built.
        var quick = Picker().Pick(new RoutingRequest("llama"), [a], explain: false);
        Assert.Same(a, quick.Endpoint);
        Assert.Equal(result.Total, quick.Total, 9);
        Assert.Empty(quick.Scores);
    }

    [Fact]
    public void A_default_result_is_no_pick()
    {
        var none = default(PickResult);
        Assert.False(none.IsPicked);
        Assert.Equal(PickOutcome.NoEndpoints, none.Outcome);
        Assert.Empty(none.Scores);
    }

    [Fact]
    public void Weight_zero_turns_a_scorer_off()
    {
        var options = new PickerOptions();
        options.Weights[ScorerNames.InFlight] = 0;
        var picker = Picker(options);
        var a = TestEndpoints.Create("a", time);
        TestEndpoints.Load(a, 15);

        Assert.DoesNotContain(picker.Scorers, s => s.Name == ScorerNames.InFlight);
        Assert.DoesNotContain(picker.Pick(new RoutingRequest("llama"), [a]).Scores, s => s.Scorer == ScorerNames.InFlight);
    }

    [Fact]
    public void Bad_weights_fail_at_construction_naming_the_key()
    {
        var unknown = new PickerOptions();
        unknown.Weights["kv-cache"] = 1;
        var negative = new PickerOptions();
        negative.Weights[ScorerNames.QueueDepth] = -1;

        Assert.Contains("Weights:kv-cache", Assert.Throws<ArgumentException>(() => Picker(unknown)).Message);
        Assert.Contains("Weights:queue", Assert.Throws<ArgumentException>(() => Picker(negative)).Message);
    }

    [Fact]
    public void Out_of_range_scores_from_a_custom_scorer_are_clamped()
    {
        var a = TestEndpoints.Create("a", time);
        var picker = new EndpointPicker([new FixedScorer(double.NaN), new FixedScorer(7) { Name = "high" }], new PickerOptions { Weights = [] }, time);

        var result = picker.Pick(new RoutingRequest("llama"), [a]);

        Assert.Equal([0.0, 1.0], result.Scores.Select(s => s.Score));
    }

    [Fact]
    public void Picks_among_a_hundred_endpoints_the_idle_one()
    {
        var endpoints = Enumerable.Range(0, 100).Select(i => TestEndpoints.Create($"e{i}", time)).ToArray();
        foreach (var e in endpoints)
            TestEndpoints.Load(e, 8);
        var idle = TestEndpoints.Create("idle", time);

        Assert.Same(idle, Picker().Pick(new RoutingRequest("llama"), [.. endpoints, idle]).Endpoint);
    }

    private sealed class FixedScorer(double score) : IEndpointScorer
    {
        public string Name { get; init; } = "fixed";

        public double Score(RoutingRequest request, RoutableEndpoint endpoint, ScoringContext context) => score;
    }
}
