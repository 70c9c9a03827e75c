using Atoll.Core.Resources;
using static Atoll.Core.Tests.Resources.ResourceTestDocs;

namespace Atoll.Core.Tests.Resources;

public sealed class ProviderValidationTests
{
    private static IReadOnlyList<Atoll.Core.Contracts.ResourceError> Provider(string spec, string name = "main") => Errors(ResourceKinds.Provider, spec, name);

    [Theory]
    [InlineData("type: lambda\ncredentials: {apiKey: {env: LAMBDA_API_KEY}}")]
    [InlineData("type: voltagepark\ncredentials: {apiKey: {file: /etc/atoll/vp}}\nregions: [us-1]\nbaseUrl: http://127.0.0.1:9000/api/v1")]
    [InlineData("type: verda\ncredentials: {clientId: {env: VERDA_ID}, clientSecret: {env: VERDA_SECRET}}")]
    [InlineData("type: ssh\ncredentials: {privateKey: {file: /keys/id}}\nhosts: [{address: 10.0.0.5, gpu: 8xH100}]")]
    [InlineData("type: ssh\nhosts: [{address: 10.0.0.5, privateKey: {env: K1}}, {address: gpu2, port: 2222, privateKey: {env: K2}}]")]
    [InlineData("type: local")]
    [InlineData("type: local\nlocal: {maxNodes: 4, shapes: [1xH100-80GB, none]}")]
    public void Valid_providers_have_no_errors(string spec) => Assert.Empty(Provider(spec));

    [Fact]
    public void An_unknown_type_lists_the_accepted_types() =>
        Single(Provider("type: aws"), "spec.type", "unknown provider type 'aws'", "accepted: lambda, verda, voltagepark, tensordock, hetzner, ssh, local");

    [Theory]
    [InlineData("lambda", "spec.credentials.apiKey", "{env: LAMBDA_API_KEY}")]
    [InlineData("tensordock", "spec.credentials.apiKey", "{env: TENSORDOCK_API_KEY}")]
    [InlineData("hetzner", "spec.credentials.apiKey", "required for type hetzner")]
    public void Api_key_providers_need_an_api_key(string type, string path, string hint) => Single(Provider($"type: {type}"), path, hint);

    [Fact]
    public void Verda_needs_client_id_and_secret()
    {
        var errors = Provider("type: verda\ncredentials: {clientId: {env: VERDA_ID}}");
        Single(errors, "spec.credentials.clientSecret", "required for type verda", "VERDA_CLIENT_SECRET");
    }

    [Fact]
    public void Unknown_credentials_and_credentials_on_local_are_refused()
    {
        Single(Provider("type: lambda\ncredentials: {apiKey: {env: A}, apikey2: {env: B}}"), "spec.credentials.apikey2", "unknown credential for type lambda; accepted: apiKey");
        Single(Provider("type: local\ncredentials: {apiKey: {env: A}}"), "spec.credentials.apiKey", "takes no credentials");
    }

    [Theory]
    [InlineData("{}", "spec.credentials.apiKey", "exactly one of env")]
    [InlineData("{env: A, file: /b}", "spec.credentials.apiKey", "exactly one of env")]
    [InlineData("{env: 1BAD}", "spec.credentials.apiKey.env", "not an environment variable name")]
    [InlineData("{file: ' '}", "spec.credentials.apiKey.file", "file path")]
    public void A_secret_reference_has_exactly_one_of_env_and_file(string secret, string path, string message) =>
        Single(Provider($"type: lambda\ncredentials: {{apiKey: {secret}}}"), path, message);

    [Fact]
    public void The_server_checks_that_secrets_resolve()
    {
        var doc = Doc(ResourceKinds.Provider, "type: lambda\ncredentials: {apiKey: {env: LAMBDA_KEY}}");
        var errors = ResourceValidator.Validate(3, doc, null, s => s.Env == "LAMBDA_KEY" ? "environment variable LAMBDA_KEY is not set on the server" : null);
        Single(errors, "spec.credentials.apiKey", "LAMBDA_KEY is not set");
    }

    [Theory]
    [InlineData("api.lambda.ai/v1")]
    [InlineData("ftp://api.example.com")]
    [InlineData("/relative")]
    public void Base_urls_must_be_absolute_http(string url) =>
        Single(Provider($"type: lambda\ncredentials: {{apiKey: {{env: K}}}}\nbaseUrl: '{url}'"), "spec.baseUrl", "absolute http(s) URL");

    [Fact]
    public void Ssh_providers_need_hosts_with_addresses_and_keys()
    {
        Single(Provider("type: ssh\ncredentials: {privateKey: {file: /k}}"), "spec.hosts", "at least one host");
        Single(Provider("type: ssh\ncredentials: {privateKey: {file: /k}}\nhosts: [{address: ''}]"), "spec.hosts[0].address", "required: the host name or IP");
        Single(Provider("type: ssh\nhosts: [{address: a, privateKey: {file: /k}}, {address: b}]"), "spec.credentials.privateKey", "unless every host has its own privateKey");
        Single(Provider("type: ssh\ncredentials: {privateKey: {file: /k}}\nhosts: [{address: a, port: 70000}]"), "spec.hosts[0].port", "1..65535");
        Single(Provider("type: ssh\ncredentials: {privateKey: {file: /k}}\nhosts: [{address: a}, {address: a}]"), "spec.hosts[1].address", "listed twice");
        Single(Provider("type: ssh\ncredentials: {privateKey: {file: /k}}\nhosts: [{address: a, gpu: 8xZ9}]"), "spec.hosts[0].gpu", "'8xZ9' names a GPU model Atoll does not know", "accepted: B200");
        Single(Provider("type: ssh\ncredentials: {privateKey: {file: /k}}\nhosts: [{address: a, gpu: eight}]"), "spec.hosts[0].gpu", "COUNTxMODEL");
    }

    [Fact]
    public void Hosts_and_local_settings_belong_to_their_types()
    {
        Single(Provider("type: lambda\ncredentials: {apiKey: {env: K}}\nhosts: [{address: a}]"), "spec.hosts", "only a provider of type ssh");
        Single(Provider("type: lambda\ncredentials: {apiKey: {env: K}}\nlocal: {maxNodes: 2}"), "spec.local", "only a provider of type local");
        Single(Provider("type: local\nlocal: {maxNodes: 0}"), "spec.local.maxNodes", "1..64");
        Single(Provider("type: local\nlocal: {shapes: [2xQ7]}"), "spec.local.shapes[0]", "'2xQ7' names a GPU model");
    }

    [Theory]
    [InlineData("Lambda")]
    [InlineData("-lambda")]
    [InlineData("lambda_1")]
    [InlineData("")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Names_must_be_dns_labels(string name) =>
        Single(Provider("type: local", name), "metadata.name", "at most 63 lower-case letters, digits and '-'");

    [Fact]
    public void Api_version_and_kind_must_be_known()
    {
        var doc = Doc(ResourceKinds.Provider, "type: local", apiVersion: "atoll.dev/v1");
        Single(ResourceValidator.Validate(3, doc), "apiVersion", "unknown apiVersion 'atoll.dev/v1'; accepted: atoll.dev/v1alpha1");
        Single(ResourceValidator.Validate(3, doc with { ApiVersion = ResourceKinds.ApiVersion, Kind = "Pool" }), "kind", "unknown kind 'Pool'; accepted: Provider, GpuPool");
    }

    [Fact]
    public void Metadata_labels_follow_kubernetes_rules()
    {
        var doc = Doc(ResourceKinds.Provider, "type: local");
        Assert.Empty(ResourceValidator.Validate(3, doc with { Metadata = new ResourceMetadata("a", new Dictionary<string, string> { ["atoll.dev/team"] = "ml-1", ["x"] = "" }) }));
        Single(ResourceValidator.Validate(3, doc with { Metadata = new ResourceMetadata("a", new Dictionary<string, string> { ["Bad.Prefix/x"] = "v" }) }),
            "metadata.labels[\"Bad.Prefix/x\"]", "invalid label key");
        Single(ResourceValidator.Validate(3, doc with { Metadata = new ResourceMetadata("a", new Dictionary<string, string> { ["team"] = "has space" }) }),
            "metadata.labels.team", "invalid label value");
    }
}
