using FailoverWatch.Configuration;
using FailoverWatch.Backup.Store;

namespace FailoverWatch.Tests.Backup;

public sealed class ManifestTests
{
    [Fact]
    public async Task manifest_round_trips_through_json_with_snake_case_keys()
    {
        var manifest = new BackupManifest
        {
            Id = "20261124T030000Z",
            StartedAt = new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero),
            FinishedAt = new DateTimeOffset(2026, 11, 24, 3, 1, 0, TimeSpan.Zero),
            FailoverwatchVersion = "0.1.0",
            Kinds = ["postgres", "media"],
            Postgres = new PostgresDumpInfo
            {
                Node = "pg2", Role = "standby", ServerVersion = "15.8", DumpFile = "postgres/dumpall.sql.zst", Compression = "zstd",
                Databases = [new DatabaseRowCounts("mastodon", new SortedDictionary<string, long>(StringComparer.Ordinal) { ["public.statuses"] = 42 })],
            },
            Files =
            [
                new ManifestEntry { Path = "media/a.png", Type = ManifestEntry.FileType, Size = 3, Mode = "0640", Mtime = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567), Sha256 = "ab" },
                new ManifestEntry { Path = "media/l", Type = ManifestEntry.SymlinkType, LinkTarget = "a.png", Mode = "0777" },
            ],
        };
        var path = Path.Combine(Path.GetTempPath(), "fw-manifest-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        await File.WriteAllBytesAsync(path, ManifestJson.Serialize(manifest));
        try
        {
            var text = await File.ReadAllTextAsync(path);
            Assert.Contains("\"server_version\": \"15.8\"", text, StringComparison.Ordinal);
            Assert.Contains("\"link_target\": \"a.png\"", text, StringComparison.Ordinal);
            var back = await ManifestJson.ReadAsync(path, CancellationToken.None);
            Assert.Equal(manifest.Files, back.Files);
            Assert.Equal(42, back.Postgres!.Databases[0].Tables["public.statuses"]);
            Assert.Equal((UnixFileMode)Convert.ToInt32("640", 8), back.Files[0].UnixMode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("4755", "4755")]
    [InlineData("600", "0600")]
    [InlineData("7", "0007")]
    public void modes_are_written_as_octal(string octal, string expected) =>
        Assert.Equal(expected, ManifestEntry.FormatMode((UnixFileMode)Convert.ToInt32(octal, 8)));

    [Fact]
    public void ids_are_the_utc_start_time_and_parse_back()
    {
        var time = new DateTimeOffset(2026, 11, 24, 4, 0, 0, TimeSpan.FromHours(1));
        Assert.Equal("20261124T030000Z", BackupStore.IdFor(time));
        Assert.Equal(time, BackupStore.TimeOf("20261124T030000Z"));
        Assert.False(BackupStore.IsId(".tmp-20261124T030000Z"));
    }

    [Fact]
    public void unknown_compression_is_a_config_problem()
    {
        const string yaml = """
            cluster:
              name: c
              nodes: [{ name: a, host: h }, { name: b, host: h }]
            backup:
              destination: /tmp/x
              postgres: { compression: lz4, compression_level: 40 }
            """;
        var (_, problems) = ConfigLoader.Parse(yaml, "/tmp");
        Assert.Contains(problems, p => p.Key == "backup.postgres.compression");
        Assert.Contains(problems, p => p.Key == "backup.postgres.compression_level");
    }
}
