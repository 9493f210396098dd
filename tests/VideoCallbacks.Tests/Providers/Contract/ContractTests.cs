namespace VideoCallbacks.Tests.Providers.Contract;

/// <summary>A provider's wire contract, pinned against a fresh <see cref="ProviderStub"/> for each test.</summary>
public abstract class ContractTests : IDisposable
{
    protected ProviderStub Stub { get; } = new();

    public void Dispose()
    {
        Stub.Dispose();
        GC.SuppressFinalize(this);
    }
}
