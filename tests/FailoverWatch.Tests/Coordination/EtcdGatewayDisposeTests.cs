using FailoverWatch.Configuration;
using FailoverWatch.Coordination;

namespace FailoverWatch.Tests.Coordination;

public sealed class EtcdGatewayDisposeTests
{
    [Fact]
    public void disposed_once_as_itself_and_once_as_IEtcdGateway_it_does_not_throw()
    {
        // The container disposes it for each of its two registrations; a host that fails to start did so and crashed.
        var gateway = new EtcdGateway(new EtcdOptions { Endpoints = ["http://127.0.0.1:1"] }, TimeProvider.System);
        gateway.Dispose();
        gateway.Dispose();
    }
}
