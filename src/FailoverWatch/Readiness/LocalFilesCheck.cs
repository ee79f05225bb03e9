namespace FailoverWatch.Readiness;

/// <summary>What the monitor itself must be able to use: the admin token (pause, switchover) and the backup destination.</summary>
internal sealed class LocalFilesCheck : IReadinessCheck
{
    public Task<IReadOnlyList<ReadinessProblem>> CheckAsync(ReadinessContext context, CancellationToken cancellationToken)
    {
        var problems = new List<ReadinessProblem>();
        if (context.Options.Http.AdminTokenFile is { } token)
        {
            try
            {
                if (File.ReadAllText(token).Trim().Length == 0)
                {
                    problems.Add(new("http.admin_token_file", $"{token} is empty: control endpoints refuse every request"));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add(new("http.admin_token_file", $"cannot read {token}: {e.Message}"));
            }
        }

        if (context.Options.Backup is { Destination: var destination })
        {
            try
            {
                // Written and gone at once: proof of a writable folder, nothing left behind.
                using var probe = new FileStream(Path.Combine(destination, $".doctor-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
                probe.WriteByte(0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add(new("backup.destination", $"cannot write in {destination}: {e.Message}"));
            }
        }

        return Task.FromResult<IReadOnlyList<ReadinessProblem>>(problems);
    }
}
