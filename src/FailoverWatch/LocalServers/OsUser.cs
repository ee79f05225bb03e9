using System.Net;
using System.Net.Sockets;

namespace FailoverWatch.LocalServers;

/// <summary>Facts about who we run as, and the small privileges dance local servers need.</summary>
internal static class OsUser
{
    /// <summary>initdb refuses root, so as root the servers run as this account.</summary>
    public const string ServerAccount = "postgres";

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>The program and arguments that run <paramref name="program"/> as the server account when we are root.</summary>
    public static (string FileName, List<string> Arguments) AsServerAccount(string program, IEnumerable<string> arguments) =>
        IsRoot
            ? ("runuser", ["-u", ServerAccount, "--", program, .. arguments])
            : (program, [.. arguments]);

    /// <summary>Makes a folder the server account can own and write.</summary>
    public static void GiveToServerAccount(string directory)
    {
        if (IsRoot)
        {
            var result = ProcessesRun("chown", ["-R", $"{ServerAccount}:", directory]);
            if (result != 0)
            {
                throw new InvalidOperationException($"chown of {directory} to {ServerAccount} failed");
            }
        }
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int ProcessesRun(string program, string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(program, arguments);
        process.WaitForExit();
        return process.ExitCode;
    }
}
