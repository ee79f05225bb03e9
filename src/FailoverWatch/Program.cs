using System.CommandLine;
using FailoverWatch.Cli;

var root = new RootCommand("FailoverWatch: watches a PostgreSQL streaming-replication cluster, fails over, and backs up")
{
    RunCommand.Create(),
    CheckConfigCommand.Create(),
    StatusCommand.Create(),
    DoctorCommand.Create(),
    IncidentsCommand.List(),
    IncidentsCommand.Explain(),
    DemoCommand.Create(),
    ControlCommand.Pause(),
    ControlCommand.Resume(),
    ControlCommand.Switchover(),
    BackupCommand.Create(),
    BackupsCommand.Create(),
    VerifyCommand.Create(),
    RestoreCommand.Create(),
    RejoinCommand.Create(),
    DrillCommand.Create(),
    RestoreTestWorkerCommand.Create(),
};

// Ctrl-C cancels the command, which then cleans up (the demo stops and removes its servers, a backup its partial
// files): that may take longer than System.CommandLine's default 2 s before it exits 130 regardless.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(60) });
