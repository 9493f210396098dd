namespace VideoCallbacks.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Test_project_builds() => Assert.Equal(4, 2 + 2);
}
