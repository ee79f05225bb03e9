using Npgsql;

namespace FailoverWatch.IntegrationTests.Fixtures;

/// <summary>What a client reaches through a proxy: a new connection each time, answered with the server's port (null: no connection).</summary>
public static class ClientProbe
{
    public static async Task<int?> ReachedPortAsync(int proxyPort, string database = "postgres")
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = proxyPort, Username = "postgres", Database = database,
            Pooling = false, Timeout = 2, CommandTimeout = 2,
        }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT current_setting('port')::int", connection);
            return (int)(await command.ExecuteScalarAsync())!;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
