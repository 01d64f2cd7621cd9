using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VoiceStudio.Data.Agents;
using VoiceStudio.Data.Calls;
using VoiceStudio.Data.Identity;
using VoiceStudio.Data.Telephony;
using VoiceStudio.Data.Tools;

namespace VoiceStudio.Data;

public sealed class VoiceStudioDbContext(DbContextOptions<VoiceStudioDbContext> options)
    : IdentityDbContext<User, Role, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>ASP.NET Data Protection's key ring, shared by every instance (cookies, tokens, encrypted settings).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Agent> Agents => Set<Agent>();
    public DbSet<FlowNode> FlowNodes => Set<FlowNode>();
    public DbSet<FlowVersion> FlowVersions => Set<FlowVersion>();
    public DbSet<FlowDraft> FlowDrafts => Set<FlowDraft>();
    public DbSet<SpeechProviderSettings> SpeechProviders => Set<SpeechProviderSettings>();
    public DbSet<Tool> Tools => Set<Tool>();
    public DbSet<Call> Calls => Set<Call>();
    public DbSet<CallEvent> CallEvents => Set<CallEvent>();
    public DbSet<TelephonySettings> TelephonySettings => Set<TelephonySettings>();
    public DbSet<TelephonyProviderSettings> TelephonyProviders => Set<TelephonyProviderSettings>();
    public DbSet<PhoneNumber> PhoneNumbers => Set<PhoneNumber>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    /// <summary>Applies the naming convention and the database provider; shared by the app, the tools and tests.</summary>
    public static void Configure(DbContextOptionsBuilder builder, string connectionString) =>
        builder.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<CallStatus>().HaveConversion<SnakeCaseEnumConverter<CallStatus>>();
        configurationBuilder.Properties<CallDirection>().HaveConversion<SnakeCaseEnumConverter<CallDirection>>();
        configurationBuilder.Properties<TelephonyProvider>().HaveConversion<SnakeCaseEnumConverter<TelephonyProvider>>();
        configurationBuilder.Properties<FlowNodeType>().HaveConversion<SnakeCaseEnumConverter<FlowNodeType>>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        var model = builder;
        base.OnModelCreating(builder);
        ConfigureIdentity(model);

        model.Entity<Agent>(e =>
        {
            e.ToTable("agents", t =>
            {
                t.HasCheckConstraint("ck_agents_name", "name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'");
                t.HasCheckConstraint("ck_agents_llm_temperature", "llm_temperature >= 0 AND llm_temperature <= 2");
                t.HasCheckConstraint("ck_agents_llm_max_tokens", "llm_max_tokens > 0");
            });
            e.HasIndex(a => a.Name).IsUnique();
            Timestamps(e);
            Json(e.Property(a => a.ProviderSettings), "'{}'::jsonb");
            Json(e.Property(a => a.PipelineSettings), "'{}'::jsonb");
            Json(e.Property(a => a.ContextVariables), "'{}'::jsonb");
            e.Property(a => a.ToolIds).HasDefaultValueSql("'{}'::uuid[]");
            e.Property(a => a.PreCallToolIds).HasDefaultValueSql("'{}'::uuid[]");
            e.Property(a => a.WebhookEvents).HasDefaultValueSql("'{}'::text[]");
            e.HasMany(a => a.Nodes).WithOne(n => n.Agent).HasForeignKey(n => n.AgentId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(a => a.FlowVersions).WithOne(v => v.Agent).HasForeignKey(v => v.AgentId).OnDelete(DeleteBehavior.Cascade);
        });

        model.Entity<FlowNode>(e =>
        {
            e.ToTable("flow_nodes", t =>
            {
                t.HasCheckConstraint("ck_flow_nodes_node_key", "node_key ~ '^[A-Za-z0-9_-]{1,64}$'");
                t.HasCheckConstraint("ck_flow_nodes_type", $"type IN ({EnumNames.SqlList<FlowNodeType>()})");
                t.HasCheckConstraint("ck_flow_nodes_builtin_tools", "builtin_tools <@ ARRAY['end_call', 'transfer_call']::text[]");
            });
            e.HasIndex(n => new { n.AgentId, n.NodeKey }).IsUnique();
            e.HasIndex(n => n.AgentId).IsUnique().HasFilter("is_initial").HasDatabaseName("ix_flow_nodes_one_initial_per_agent");
            Timestamps(e);
            Json(e.Property(n => n.RoleMessages), "'[]'::jsonb");
            Json(e.Property(n => n.TaskMessages), "'[]'::jsonb");
            Json(e.Property(n => n.Functions), "'[]'::jsonb");
            Json(e.Property(n => n.PreActions), "'[]'::jsonb");
            Json(e.Property(n => n.PostActions), "'[]'::jsonb");
            Json(e.Property(n => n.Config), "'{}'::jsonb");
            e.Property(n => n.ToolIds).HasDefaultValueSql("'{}'::uuid[]");
            e.Property(n => n.BuiltinTools).HasDefaultValueSql("'{}'::text[]");
        });

        model.Entity<FlowVersion>(e =>
        {
            e.ToTable("flow_versions", t => t.HasCheckConstraint("ck_flow_versions_version", "version > 0"));
            e.HasIndex(v => new { v.AgentId, v.Version }).IsUnique();
            e.Property(v => v.CreatedAt).HasDefaultValueSql("now()");
            Json(e.Property(v => v.Definition), "'[]'::jsonb");
        });

        model.Entity<SpeechProviderSettings>(e =>
        {
            e.ToTable(SpeechProviderSettings.TableName, t => t.HasCheckConstraint("ck_speech_providers_provider", "provider IN ('deepgram', 'openai', 'elevenlabs', 'cartesia')"));
            e.HasKey(p => p.Provider);
        });

        model.Entity<FlowDraft>(e =>
        {
            e.ToTable("flow_drafts", t => t.HasCheckConstraint("ck_flow_drafts_revision", "revision > 0"));
            e.HasKey(d => d.AgentId);
            e.HasOne(d => d.Agent).WithOne().HasForeignKey<FlowDraft>(d => d.AgentId).OnDelete(DeleteBehavior.Cascade);
            Json(e.Property(d => d.Document), "'[]'::jsonb");
        });

        model.Entity<Tool>(e =>
        {
            e.ToTable("tools", t =>
            {
                t.HasCheckConstraint("ck_tools_name", "name ~ '^[a-z][a-z0-9_]{0,63}$'");
                t.HasCheckConstraint("ck_tools_method", "method IN ('POST', 'GET')");
                t.HasCheckConstraint("ck_tools_timeout_seconds", "timeout_seconds > 0 AND timeout_seconds <= 120");
            });
            e.HasIndex(t => t.Name).IsUnique();
            Timestamps(e);
            e.Property(t => t.Method).HasConversion(m => m == ToolMethod.Get ? "GET" : "POST", s => s == "GET" ? ToolMethod.Get : ToolMethod.Post);
            Json(e.Property(t => t.Parameters), "'{}'::jsonb");
            Json(e.Property(t => t.Headers), "'{}'::jsonb");
        });

        model.Entity<Call>(e =>
        {
            e.ToTable("calls", t =>
            {
                t.HasCheckConstraint("ck_calls_status", $"status IN ({EnumNames.SqlList<CallStatus>()})");
                t.HasCheckConstraint("ck_calls_direction", $"direction IN ({EnumNames.SqlList<CallDirection>()})");
                t.HasCheckConstraint("ck_calls_provider", $"provider IN ({EnumNames.SqlList<TelephonyProvider>()})");
                t.HasCheckConstraint("ck_calls_duration_seconds", "duration_seconds IS NULL OR duration_seconds >= 0");
                t.HasCheckConstraint("ck_calls_ended_after_started", "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at");
            });
            e.HasIndex(c => c.Status);
            e.HasIndex(c => c.AgentId);
            e.HasIndex(c => c.StartedAt);
            e.HasIndex(c => new { c.OwnerInstance, c.Status });
            e.HasIndex(c => new { c.Provider, c.ProviderCallId }).IsUnique().HasFilter("provider_call_id IS NOT NULL");
            Timestamps(e);
            e.HasOne(c => c.Agent).WithMany().HasForeignKey(c => c.AgentId).OnDelete(DeleteBehavior.SetNull);
            e.HasOne(c => c.FlowVersion).WithMany().HasForeignKey(c => c.FlowVersionId).OnDelete(DeleteBehavior.SetNull);
            e.HasMany(c => c.Events).WithOne(ev => ev.Call).HasForeignKey(ev => ev.CallId).OnDelete(DeleteBehavior.Cascade);
            Json(e.Property(c => c.Transcript), "'[]'::jsonb");
            Json(e.Property(c => c.ContextVariables), "'{}'::jsonb");
            Json(e.Property(c => c.Usage), "'{}'::jsonb");
            e.Property(c => c.IsTest).HasDefaultValue(false);
        });

        model.Entity<CallEvent>(e =>
        {
            e.ToTable("call_events", t => t.HasCheckConstraint("ck_call_events_type", $"type IN ({string.Join(", ", CallEventTypes.All.Select(n => $"'{n}'"))})"));
            e.Property(ev => ev.Id).UseIdentityByDefaultColumn();
            e.HasIndex(ev => new { ev.CallId, ev.OccurredAt });
            e.Property(ev => ev.OccurredAt).HasDefaultValueSql("now()");
            Json(e.Property(ev => ev.Data), "'{}'::jsonb");
        });

        model.Entity<TelephonySettings>(e =>
        {
            e.ToTable("telephony_settings", t =>
            {
                t.HasCheckConstraint("ck_telephony_settings_singleton", "id = 1");
                t.HasCheckConstraint("ck_telephony_settings_default_provider", "default_provider IN ('twilio', 'exotel', 'vobiz')");
            });
            e.Property(s => s.Id).ValueGeneratedNever();
            e.Property(s => s.UpdatedAt).HasDefaultValueSql("now()");
        });

        model.Entity<TelephonyProviderSettings>(e =>
        {
            e.ToTable("telephony_providers", t =>
            {
                t.HasCheckConstraint("ck_telephony_providers_provider", "provider IN ('twilio', 'exotel', 'vobiz')");
                t.HasCheckConstraint("ck_telephony_providers_max_concurrent", "max_concurrent >= 0");
            });
            e.HasKey(p => p.Provider);
            e.Property(p => p.UpdatedAt).HasDefaultValueSql("now()");
            e.Property(p => p.MaxConcurrent).HasDefaultValue(TelephonyProviderSettings.DefaultMaxConcurrent).HasSentinel(-1);
        });

        model.Entity<PhoneNumber>(e =>
        {
            e.ToTable("phone_numbers", t =>
            {
                t.HasCheckConstraint("ck_phone_numbers_number", "number ~ '^\\+[1-9][0-9]{6,14}$'");
                t.HasCheckConstraint("ck_phone_numbers_provider", "provider IN ('twilio', 'exotel', 'vobiz')");
            });
            e.HasIndex(p => p.Number).IsUnique();
            Timestamps(e);
            e.HasOne(p => p.InboundAgent).WithMany().HasForeignKey(p => p.InboundAgentId).OnDelete(DeleteBehavior.SetNull);
            e.HasOne(p => p.OutboundAgent).WithMany().HasForeignKey(p => p.OutboundAgentId).OnDelete(DeleteBehavior.SetNull);
        });

        model.Entity<DataProtectionKey>(e => e.ToTable("data_protection_keys"));

        model.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasIndex(k => k.KeyHash).IsUnique();
            e.HasIndex(k => k.UserId);
            e.Property(k => k.CreatedAt).HasDefaultValueSql("now()");
            e.HasOne(k => k.User).WithMany(u => u.ApiKeys).HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    private static void ConfigureIdentity(ModelBuilder model)
    {
        model.Entity<User>(e =>
        {
            e.ToTable("users");
            e.Property(u => u.CreatedAt).HasDefaultValueSql("now()");
            e.HasIndex(u => u.NormalizedUserName).HasDatabaseName("ix_users_normalized_user_name");
            e.HasIndex(u => u.NormalizedEmail).HasDatabaseName("ix_users_normalized_email");
        });
        model.Entity<Role>(e =>
        {
            e.ToTable("roles");
            e.HasIndex(r => r.NormalizedName).HasDatabaseName("ix_roles_normalized_name");
        });
        model.Entity<IdentityUserRole<Guid>>().ToTable("user_roles");
        model.Entity<IdentityUserClaim<Guid>>().ToTable("user_claims");
        model.Entity<IdentityUserLogin<Guid>>().ToTable("user_logins");
        model.Entity<IdentityUserToken<Guid>>().ToTable("user_tokens");
        model.Entity<IdentityRoleClaim<Guid>>().ToTable("role_claims");
    }

    private static void Timestamps<T>(EntityTypeBuilder<T> e) where T : class
    {
        e.Property<DateTimeOffset>("CreatedAt").HasDefaultValueSql("now()");
        e.Property<DateTimeOffset>("UpdatedAt").HasDefaultValueSql("now()");
    }

    private static void Json(PropertyBuilder<string> property, string defaultSql) =>
        property.HasColumnType("jsonb").HasDefaultValueSql(defaultSql);
}
