using System.CommandLine;
using FailoverWatch.Cli;

var root = new RootCommand("FailoverWatch: watches a PostgreSQL streaming-replication cluster, fails over, and backs up")
{
    RunCommand.Create(),
    CheckConfigCommand.Create(),
    StatusCommand.Create(),
    DemoCommand.Create(),
    ControlCommand.Pause(),
    ControlCommand.Resume(),
    ControlCommand.Switchover(),
    BackupCommand.Create(),
    BackupsCommand.Create(),
    VerifyCommand.Create(),
    RestoreCommand.Create(),
};

// Ctrl-C and SIGTERM cancel the command; it then gets up to 30 s to finish (stop the host, remove the demo's
// servers) before it is cut off with 130/143. The 2 s default was near what the demo's clean-up takes.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
