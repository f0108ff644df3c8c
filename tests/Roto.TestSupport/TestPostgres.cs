using Npgsql;

namespace Roto.TestSupport;

/// <summary>
/// The PostgreSQL server that ./test.sh starts for the run (scripts/postgres.sh), named by ROTO_TEST_POSTGRES. Each
/// test takes a database of its own on it. Without the variable the tests that need it fail and say why: a missing
/// database must not pass for a passing suite.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "ROTO_TEST_POSTGRES";

    public static string Server => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } s ? s
        : throw new InvalidOperationException(
            $"{Variable} is not set: run the tests through ./test.sh, or start a server with eval \"$(scripts/postgres.sh start DIR)\"");

    /// <summary>Creates an empty database and returns the connection string that reaches it.</summary>
    public static string NewDatabase()
    {
        var name = $"roto_{Guid.NewGuid():N}";
        using (var admin = new NpgsqlConnection(Server))
        {
            admin.Open();
            using var create = admin.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{name}\"";
            create.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString;
    }
}
