using Atoll.Agent.BatchWorker;

namespace Atoll.Agent.Tests.BatchWorker;

public sealed class ModelUrlsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/metrics")]
    [InlineData("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/metrics")]
    [InlineData("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/metrics")]
    [InlineData("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/metrics")]
    [InlineData("http://gpu-box/llama/v1", "http://gpu-box/llama/v1/chat/completions", "http://gpu-box/llama/metrics")]
    public void Batch_endpoint_and_metrics_are_found_from_the_model_url_with_or_without_v1(string modelUrl, string endpoint, string metrics)
    {
        Assert.Equal(endpoint, ModelUrls.Endpoint(modelUrl, "/v1/chat/completions").ToString());
        Assert.Equal(metrics, ModelUrls.Metrics(modelUrl).ToString());
    }

    [Fact]
    public void Gauges_are_summed_over_label_sets_and_missing_ones_are_null()
    {
        const string text = """
            # HELP vllm:num_requests_running Number of requests in model execution batches.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{engine="0",model_name="a"} 3.0
            vllm:num_requests_running{engine="1",model_name="a"} 2.0
            vllm:num_requests_running_total 100
            vllm:num_requests_waiting 4
            """;
        Assert.Equal(5, PrometheusGauges.Sum(text, "vllm:num_requests_running"));
        Assert.Equal(4, PrometheusGauges.Sum(text, "vllm:num_requests_waiting"));
        Assert.Null(PrometheusGauges.Sum(text, "vllm:num_requests_swapped"));
    }
}
