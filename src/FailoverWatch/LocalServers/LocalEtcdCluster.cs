using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FailoverWatch.Processes;

namespace FailoverWatch.LocalServers;

/// <summary>
/// A real 3-member etcd cluster on loopback (or fewer members, or over https: <see cref="StartAsync"/>) (etcd-server from the machine), each member with its own ports and
/// folder, fast elections (<c>--heartbeat-interval 100 --election-timeout 1000</c>). A member that cannot bind
/// (a port taken between "free?" and bind) makes the whole cluster start again on other ports: the peer URLs
/// are part of every member's initial configuration. Killed and removed on dispose whatever happened.
/// The test fixtures and the benchmarks build on it.
/// </summary>
internal sealed class LocalEtcdCluster : IAsyncDisposable
{
    private readonly int _size;
    private readonly EtcdServerTls? _tls;
    private readonly HttpClient _http;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fw-etcd-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly List<Member> _members = [];

    private LocalEtcdCluster(int size, EtcdServerTls? tls)
    {
        (_size, _tls) = (size, tls);
        var timeout = TimeSpan.FromSeconds(2);
        _http = tls?.CreateClient(timeout) ?? new HttpClient { Timeout = timeout };
        Directory.CreateDirectory(_directory);
    }

    public IReadOnlyList<string> ClientUrls => [.. _members.Select(m => m.ClientUrl)];

    /// <summary>The endpoints as a YAML flow list.</summary>
    public string EndpointsYaml => MonitorConfigYaml.Endpoints(ClientUrls);

    /// <param name="tls">Clients served over https only, each asked for a certificate; the peers stay plain http on loopback.</param>
    public static async Task<LocalEtcdCluster> StartAsync(EtcdServerTls? tls = null, int members = 3)
    {
        var cluster = new LocalEtcdCluster(members, tls);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                if (await cluster.TryStartAsync(attempt))
                {
                    return cluster;
                }

                await cluster.KillAllAsync();
                if (attempt == 3)
                {
                    throw new InvalidOperationException("etcd did not start in 3 attempts:\n" + cluster.Logs());
                }
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGSTOP of a member: it holds its ports but answers nothing, as a hung host would.</summary>
    public Task PauseMemberAsync(int index) => SignalAsync(index, "STOP");

    public Task ResumeMemberAsync(int index) => SignalAsync(index, "CONT");

    /// <summary>The index of the member that is raft leader now, as the members themselves say (maintenance status); -1 when none says.</summary>
    public async Task<int> LeaderIndexAsync()
    {
        var ids = new string?[_members.Count];
        string? leader = null;
        for (var i = 0; i < _members.Count; i++)
        {
            try
            {
                using var response = await _http.PostAsync(new Uri(_members[i].ClientUrl + "/v3/maintenance/status"), new StringContent("{}"));
                using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                ids[i] = status.RootElement.GetProperty("header").GetProperty("member_id").GetString();
                leader ??= status.RootElement.TryGetProperty("leader", out var named) ? named.GetString() : null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
            {
                // Paused or down: it is not the one to name.
            }
        }

        return leader is null ? -1 : Array.IndexOf(ids, leader);
    }

    /// <summary>Whether the member at <paramref name="index"/> says the cluster has quorum.</summary>
    public async Task<bool> IsHealthyAsync(int index)
    {
        try
        {
            return (await _http.GetStringAsync(new Uri(_members[index].ClientUrl + "/health"))).Contains("\"true\"", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAllAsync();
        _http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> TryStartAsync(int attempt)
    {
        _members.Clear();
        for (var i = 0; i < _size; i++)
        {
            _members.Add(new Member($"etcd{i}", OsUser.FreeLoopbackPort(), OsUser.FreeLoopbackPort(), Path.Combine(_directory, $"a{attempt}-etcd{i}"), _tls));
        }

        var initialCluster = string.Join(",", _members.Select(m => $"{m.Name}={m.PeerUrl}"));
        foreach (var member in _members)
        {
            member.Start(initialCluster, $"fw-test-{attempt}");
        }

        // Healthy (every member says the cluster has quorum) or given up: a member exited, or 30 s passed.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30) && _members.All(m => !m.Process!.HasExited))
        {
            if ((await Task.WhenAll(Enumerable.Range(0, _size).Select(IsHealthyAsync))).All(h => h))
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static readonly TimeSpan SignalTimeout = TimeSpan.FromSeconds(10);

    private Task SignalAsync(int index, string signal) =>
        ExternalProcess.RunAsync("kill", [$"-{signal}", _members[index].Process!.Id.ToString(CultureInfo.InvariantCulture)], SignalTimeout, CancellationToken.None);

    private async Task KillAllAsync()
    {
        foreach (var member in _members)
        {
            await member.KillAsync();
        }
    }

    private string Logs() => string.Join("\n", _members.Select(m => $"--- {m.Name}\n" + (File.Exists(m.LogPath) ? string.Join("\n", File.ReadLines(m.LogPath).TakeLast(15)) : "")));

    private sealed class Member(string name, int clientPort, int peerPort, string dataDirectory, EtcdServerTls? tls)
    {
        public string Name { get; } = name;

        public string ClientUrl { get; } = $"{(tls is null ? "http" : "https")}://127.0.0.1:{clientPort}";

        public string PeerUrl { get; } = $"http://127.0.0.1:{peerPort}";

        public string LogPath => dataDirectory + ".log";

        public Process? Process { get; private set; }

        public void Start(string initialCluster, string token)
        {
            var start = new ProcessStartInfo("etcd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in (string[])[
                "--name", Name, "--data-dir", dataDirectory,
                "--listen-client-urls", ClientUrl, "--advertise-client-urls", ClientUrl,
                "--listen-peer-urls", PeerUrl, "--initial-advertise-peer-urls", PeerUrl,
                "--initial-cluster", initialCluster, "--initial-cluster-token", token, "--initial-cluster-state", "new",
                "--heartbeat-interval", "100", "--election-timeout", "1000", "--log-level", "warn", .. tls?.Arguments ?? []])
            {
                start.ArgumentList.Add(argument);
            }

            Process = Process.Start(start)!;
            var log = new StreamWriter(LogPath) { AutoFlush = true };
            Process.OutputDataReceived += (_, e) => Write(log, e.Data);
            Process.ErrorDataReceived += (_, e) => Write(log, e.Data);
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public async Task KillAsync()
        {
            if (Process is { HasExited: false })
            {
                Process.Kill();
                await Process.WaitForExitAsync();
            }

            Process?.Dispose();
            Process = null;
        }

        private static void Write(StreamWriter log, string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }
}
