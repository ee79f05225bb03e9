using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using FailoverWatch.LocalServers;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>
/// A real OpenSSH server on its own loopback port serving sftp, with its own host key, client key and authorized_keys in
/// a temp folder (<c>sshd -D -f CONFIG</c>, a child of the test): a restic sftp backend that the test can take down and
/// bring back on the same port. Killed and its folder removed on dispose.
/// </summary>
public sealed class SftpServer : IAsyncDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private readonly TempDirectory _directory = new();
    private Process? _process;

    private SftpServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>restic's <c>sftp.command</c> for this server: our key, our known_hosts, no prompts.</summary>
    public string SftpCommand => string.Create(CultureInfo.InvariantCulture,
        $"ssh -i {_directory.File("client_key")} -p {Port} -o UserKnownHostsFile={_directory.File("known_hosts")} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 root@127.0.0.1 -s sftp");

    public string RepositoryFor(string path) => $"sftp:root@127.0.0.1:{path}";

    public static async Task<SftpServer> StartAsync()
    {
        var server = new SftpServer(OsUser.FreeLoopbackPort());
        try
        {
            await server.ConfigureAsync();
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async Task StartAgainAsync()
    {
        // sshd insists on its privilege separation folder, which only the Debian service creates.
        Directory.CreateDirectory("/run/sshd");
        _process = Process.Start(new ProcessStartInfo(Sshd, ["-D", "-e", "-f", _directory.File("sshd_config")]) { RedirectStandardError = true, UseShellExecute = false })!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        await Wait.UntilAsync(() => Accepts(), TimeSpan.FromSeconds(20), $"sshd listening on {Port}");
    }

    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }

        await Wait.UntilAsync(() => !Accepts(), TimeSpan.FromSeconds(20), $"sshd on {Port} gone");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _directory.Dispose();
        }
    }

    private async Task ConfigureAsync()
    {
        await BackupRig.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", _directory.File("host_key")]);
        await BackupRig.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", _directory.File("client_key")]);
        File.Copy(_directory.File("client_key.pub"), _directory.File("authorized_keys"));
        await File.WriteAllTextAsync(_directory.File("known_hosts"), $"[127.0.0.1]:{Port} {await File.ReadAllTextAsync(_directory.File("host_key.pub"))}");
        await File.WriteAllTextAsync(_directory.File("sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {_directory.File("host_key")}
            AuthorizedKeysFile {_directory.File("authorized_keys")}
            PidFile {_directory.File("sshd.pid")}
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            PermitRootLogin prohibit-password
            StrictModes no
            Subsystem sftp internal-sftp

            """);
    }

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
