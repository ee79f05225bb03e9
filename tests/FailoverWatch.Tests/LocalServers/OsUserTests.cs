using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FailoverWatch.LocalServers;

namespace FailoverWatch.Tests.LocalServers;

public sealed class OsUserTests
{
    [Fact]
    public void a_free_loopback_port_is_below_the_ephemeral_range_so_no_outgoing_connection_takes_it_before_its_server_binds()
    {
        var ephemeralFrom = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        for (var i = 0; i < 20; i++)
        {
            var port = OsUser.FreeLoopbackPort();
            Assert.InRange(port, 10000, ephemeralFrom - 1);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }
}
