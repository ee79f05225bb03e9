namespace FailoverWatch.LocalServers;

/// <summary>
/// How a scratch server that holds someone else's data is reached: only as <paramref name="Role"/> with
/// <paramref name="Password"/> (scram), and run as <paramref name="OsAccount"/>, an account that owns nothing worth reading.
/// </summary>
internal sealed record IsolatedLogin(string Role, string Password, string OsAccount);
