namespace VoiceStudio.Tests.Infrastructure;

/// <summary>The shape of a database as PostgreSQL itself describes it: columns, constraints and indexes.</summary>
public static class SchemaSnapshot
{
    public static async Task<List<string>> ReadAsync(TestDatabase database)
    {
        var columns = await database.QueryAsync("""
            SELECT format('column %s.%s %s %s default=%s identity=%s', table_name, column_name, data_type,
                          CASE WHEN is_nullable = 'YES' THEN 'null' ELSE 'not null' END, column_default, is_identity)
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name <> '__ef_migrations_history'
            """);
        var arrays = await database.QueryAsync("""
            SELECT format('array %s.%s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod))
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relname <> '__ef_migrations_history'
            """);
        var constraints = await database.QueryAsync("""
            SELECT format('constraint %s.%s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
            FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '__ef_migrations_history'
            """);
        var indexes = await database.QueryAsync("""
            SELECT format('index %s', indexdef) FROM pg_indexes
            WHERE schemaname = 'public' AND tablename <> '__ef_migrations_history'
            """);
        return [.. columns.Concat(arrays).Concat(constraints).Concat(indexes).Order(StringComparer.Ordinal)];
    }
}
