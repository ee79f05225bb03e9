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
};

return await root.Parse(args).InvokeAsync();
