using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FailoverWatch.LocalServers;

/// <summary>Facts about who we run as, and the small privileges dance local servers need.</summary>
internal static class OsUser
{
    /// <summary>initdb refuses root, so as root the servers run as this account.</summary>
    public const string ServerAccount = "postgres";

    // Ports below are the well-known services' (PostgreSQL, Redis, etcd) and the usual fixed ones.
    private const int LowestPickedPort = 10000;

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>The program and arguments that run <paramref name="program"/> as the server account when we are root.</summary>
    public static (string FileName, List<string> Arguments) AsServerAccount(string program, IEnumerable<string> arguments) =>
        AsAccount(ServerAccount, program, arguments);

    /// <summary>The program and arguments that run <paramref name="program"/> as <paramref name="account"/> when we are root (else as ourselves: no one else can be become).</summary>
    public static (string FileName, List<string> Arguments) AsAccount(string account, string program, IEnumerable<string> arguments) =>
        IsRoot
            ? ("runuser", ["-u", account, "--", program, .. arguments])
            : (program, [.. arguments]);

    /// <summary>Makes a folder the server account can own and write.</summary>
    public static void GiveToServerAccount(string directory) => GiveToAccount(ServerAccount, directory);

    /// <summary>Makes a folder (or file) <paramref name="account"/> owns, when we are root.</summary>
    public static void GiveToAccount(string account, string path)
    {
        if (IsRoot)
        {
            var result = ProcessesRun("chown", ["-R", $"{account}:", path]);
            if (result != 0)
            {
                throw new InvalidOperationException($"chown of {path} to {account} failed");
            }
        }
    }

    /// <summary>Whether the system knows <paramref name="account"/> (through NSS, as runuser will look it up).</summary>
    public static bool Exists(string account)
    {
        var start = new System.Diagnostics.ProcessStartInfo("getent", ["passwd", account]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    /// <summary>
    /// A loopback port nothing listens on now, picked below the kernel's ephemeral range: one from that range (what
    /// binding port 0 gives) can become the local end of an outgoing connection, to etcd or PostgreSQL, before its
    /// server binds it ("address already in use").
    /// </summary>
    public static int FreeLoopbackPort()
    {
        var below = EphemeralPortsFrom();
        for (var attempt = 0; below > LowestPickedPort + 1000 && attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(LowestPickedPort, below);
            try
            {
                using var candidate = new TcpListener(IPAddress.Loopback, port);
                candidate.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another.
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first port of <c>net.ipv4.ip_local_port_range</c> (Linux's default 32768 when it cannot be read).</summary>
    private static int EphemeralPortsFrom()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }

    private static int ProcessesRun(string program, string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(program, arguments);
        process.WaitForExit();
        return process.ExitCode;
    }
}
