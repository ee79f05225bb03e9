using System.Net.Sockets;

namespace FailoverWatch.Backup.Restore;

/// <summary>
/// The restore test of a service that is not root: it cannot become another account (and NoNewPrivileges rules out
/// sudo), so systemd does it. <c>contrib/failoverwatch-restore.socket</c> listens on <c>backup.restore_test_socket</c> (<c>/run/failoverwatch-restore.sock</c>), the
/// service's alone (SocketUser=failoverwatch, 0600), and starts <c>failoverwatch restore-test-worker</c> as
/// <c>failoverwatch-restore</c> for each connection, its standard input and output the connection: the plain SQL goes
/// in, the counts come back (<see cref="ScratchRestore.Write"/>). The worker cannot read the backup destination, the
/// restic password, the admin token or ssh keys; it gets the dump through the socket only.
/// </summary>
internal static class RestoreTestSocket
{
    public static async Task<ScratchRestore.Result> RunAsync(string path, Stream sql, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"cannot connect to the restore test socket {path} (backup.restore_test_socket): {e.Message}", e);
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await sql.CopyToAsync(stream, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        // End of the SQL: the worker's standard input ends, the restore finishes, the counts come back.
        socket.Shutdown(SocketShutdown.Send);
        using var reader = new StreamReader(stream);
        var answer = await reader.ReadToEndAsync(cancellationToken);
        try
        {
            return ScratchRestore.Read(answer);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidOperationException($"the restore test worker behind {path} gave no result ({answer.Length} bytes: {e.Message}); see its unit's journal (journalctl -u 'failoverwatch-restore@*')", e);
        }
    }
}
