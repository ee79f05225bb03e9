using System.Diagnostics;
using FailoverWatch.Backup;
using FailoverWatch.Backup.Scheduling;
using FailoverWatch.Backup.Store;
using FailoverWatch.IntegrationTests.Fixtures;
using FailoverWatch.Storage;
using Xunit.Abstractions;

namespace FailoverWatch.IntegrationTests.Backup;

/// <summary>on_change: a certbot renewal under a running host is in a certs backup within 60 s, even while a dump holds its locks.</summary>
public sealed class BackupOnChangeTests(ITestOutputHelper output)
{
    private static readonly UnixFileMode Folder = (UnixFileMode)Convert.ToInt32("700", 8);
    private static readonly UnixFileMode Public = (UnixFileMode)Convert.ToInt32("644", 8);

    [Fact]
    public async Task a_certbot_renewal_under_a_running_host_is_backed_up_within_60_s_while_a_dump_runs()
    {
        using var dir = new TempDirectory();
        var le = dir.File("letsencrypt");
        BackupRig.WriteFile(dir.File(".env.production"), "KEY=1", DurableFiles.OwnerOnly);
        Issue(le, 1);
        foreach (var name in Names)
        {
            File.CreateSymbolicLink(Path.Combine(le, "live/example.org", name + ".pem"), $"../../archive/example.org/{name}1.pem");
        }

        var destination = dir.File("dest");
        var options = BackupRig.Load(BackupRig.Nodes(null) + $$"""

            monitor: { state_file: {{dir.File("state.json")}} }
            backup:
              destination: {{destination}}
              secrets: { paths: [{{dir.File(".env.production")}}] }
              certs: { path: {{le}} }
            """, dir.Path);
        await using var host = await RunningHost.StartAsync(options, dir.Path);
        await host.GetRequiredService<BackupChangeWatcher>().Watching.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"inotify watches of this process after start: {InotifyWatches()}");

        // The nightly dump is running: its shared run lock and the postgres kind's lock are held for its whole length.
        Directory.CreateDirectory(destination);
        await using var dumpRun = new FileStream(Path.Combine(destination, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        await using var dumpKind = new FileStream(Path.Combine(destination, ".lock-postgres"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        // certbot renew: new archive files with its modes, then each live/ link swapped alone (symlink to a temporary name, rename over).
        var renewal = Stopwatch.StartNew();
        Issue(le, 2);
        foreach (var name in Names)
        {
            var link = Path.Combine(le, "live/example.org", name + ".pem");
            File.CreateSymbolicLink(link + ".new", $"../../archive/example.org/{name}2.pem");
            File.Move(link + ".new", link, overwrite: true);
        }

        var store = new BackupStore(destination);
        BackupManifest? renewed = null;
        await Wait.UntilAsync(
            async () =>
            {
                foreach (var (_, manifest) in await store.NewestFirstAsync(CancellationToken.None))
                {
                    if (manifest.OfKind(BackupKinds.Certs).Any(e => e.Path == "certs/live/example.org/privkey.pem" && e.LinkTarget == "../../archive/example.org/privkey2.pem"))
                    {
                        renewed = manifest;
                        return true;
                    }
                }

                return false;
            },
            TimeSpan.FromSeconds(90),
            "a certs backup holding the renewed key");
        var took = renewal.Elapsed;
        output.WriteLine($"renewal to its backup: {took.TotalSeconds:0.0} s; inotify watches: {InotifyWatches()}");
        Assert.True(took < TimeSpan.FromSeconds(60), $"took {took}");
        Assert.Equal([BackupKinds.Certs], renewed!.Kinds);
        var key = Assert.Single(renewed.Files, f => f.Path == "certs/archive/example.org/privkey2.pem");
        Assert.Equal("0600", key.Mode);
    }

    private static readonly string[] Names = ["cert", "chain", "fullchain", "privkey"];

    /// <summary>certbot's files of issue <paramref name="n"/>: folders 0700, certificates 0644, the key 0600.</summary>
    private static void Issue(string le, int n)
    {
        foreach (var folder in new[] { "archive", "archive/example.org", "live", "live/example.org" })
        {
            Directory.CreateDirectory(Path.Combine(le, folder));
            File.SetUnixFileMode(Path.Combine(le, folder), Folder);
        }

        foreach (var name in Names)
        {
            BackupRig.WriteFile(Path.Combine(le, "archive/example.org", $"{name}{n}.pem"), $"{name} {n}", name == "privkey" ? DurableFiles.OwnerOnly : Public);
        }
    }

    /// <summary>inotify watches this process holds, from /proc/self/fdinfo (one "inotify wd:" line per watch).</summary>
    private static int InotifyWatches() =>
        Directory.EnumerateFiles("/proc/self/fdinfo").Sum(f =>
        {
            try
            {
                return File.ReadLines(f).Count(l => l.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                return 0;
            }
        });
}
