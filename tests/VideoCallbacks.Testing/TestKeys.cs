namespace VideoCallbacks.Testing;

/// <summary>The API keys every test and benchmark configures the service with.</summary>
public static class TestKeys
{
    public const string Client = "test-client-key-0123456789abcdef";
    public const string OtherClient = "test-client-key-fedcba9876543210";
    public const string Admin = "test-admin-key-0123456789abcdef";
}
