using Microsoft.AspNetCore.Identity;

namespace VoiceStudio.Data.Identity;

/// <summary>A dashboard user (ASP.NET Core Identity).</summary>
public sealed class User : IdentityUser<Guid>
{
    public string? DisplayName { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }
    public List<ApiKey> ApiKeys { get; set; } = [];
}

public sealed class Role : IdentityRole<Guid>
{
}

public static class Roles
{
    public const string Admin = "admin";
    public const string Designer = "designer";
    public const string Supervisor = "supervisor";
    public const string Viewer = "viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Designer, Supervisor, Viewer];
}

/// <summary>An API key: "vs_" + secret, shown once; only its SHA-256 hash is stored.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public User? User { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters, to tell keys apart in lists (e.g. "vs_3fa9c1").</summary>
    public required string Prefix { get; set; }
    /// <summary>Lower-case hex SHA-256 of the whole key.</summary>
    public required string KeyHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
