using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace Atoll.Storage.Objects;

/// <summary>
/// S3 credentials from where AWS tools look for them, and nowhere else: the AWS_ACCESS_KEY_ID /
/// AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN] environment variables, else the AWS_PROFILE (or "default") profile of
/// the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/credentials).
/// </summary>
internal static class S3Credentials
{
    public static AWSCredentials Resolve(Func<string, string?> environment, string store)
    {
        var accessKey = environment("AWS_ACCESS_KEY_ID");
        var secretKey = environment("AWS_SECRET_ACCESS_KEY");
        if (!string.IsNullOrEmpty(accessKey) || !string.IsNullOrEmpty(secretKey))
        {
            if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
            {
                throw new ArgumentException(
                    $"object store {store}: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (one of them is empty)");
            }
            var token = environment("AWS_SESSION_TOKEN");
            return string.IsNullOrEmpty(token)
                ? new BasicAWSCredentials(accessKey, secretKey)
                : new SessionAWSCredentials(accessKey, secretKey, token);
        }

        var file = environment("AWS_SHARED_CREDENTIALS_FILE");
        var profile = environment("AWS_PROFILE");
        if (string.IsNullOrEmpty(profile))
        {
            profile = "default";
        }
        var chain = string.IsNullOrEmpty(file) ? new CredentialProfileStoreChain() : new CredentialProfileStoreChain(file);
        if (chain.TryGetAWSCredentials(profile, out var credentials))
        {
            return credentials;
        }
        throw new ArgumentException(
            $"object store {store}: no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN " +
            $"if needed) in the environment, or add a profile '{profile}' to the shared credentials file " +
            $"({(string.IsNullOrEmpty(file) ? "~/.aws/credentials" : file)}; AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE choose them)");
    }
}
