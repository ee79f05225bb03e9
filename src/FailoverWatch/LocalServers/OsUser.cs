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
