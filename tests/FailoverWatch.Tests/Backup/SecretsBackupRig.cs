using System.Diagnostics.Metrics;
using FailoverWatch.Backup;
using FailoverWatch.Backup.Steps;
using FailoverWatch.Configuration;
using FailoverWatch.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace FailoverWatch.Tests.Backup;

/// <summary>A temp folder with one secrets file, and backup runners that take it into <see cref="Destination"/>.</summary>
internal sealed class SecretsBackupRig : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fw-backup-rig-").FullName;

    public SecretsBackupRig() => File.WriteAllText(Path.Combine(_directory, "secret"), "KEY=1");

    public string Destination => Path.Combine(_directory, "dest");

    public IBackupStep SecretsStep => new SecretsBackupStep(new SecretsBackupOptions { Paths = [Path.Combine(_directory, "secret")] });

    /// <summary>A runner for <paramref name="options"/> whose one step is <paramref name="step"/>, or a copy of the secrets file.</summary>
    public BackupRunner Runner(BackupOptions options, TimeProvider clock, IBackupStep? step = null) => Runner(options, clock, [step ?? SecretsStep]);

    /// <summary>A runner whose steps are <paramref name="steps"/>, in that order.</summary>
    public BackupRunner Runner(BackupOptions options, TimeProvider clock, params IReadOnlyList<IBackupStep> steps)
    {
        var meterFactory = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new BackupRunner(options, steps, new FailoverWatchMetrics(meterFactory), new BackupStatusBoard(), clock, NullLogger.Instance);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
