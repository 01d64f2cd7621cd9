namespace VoiceStudio.Data.Tools;

/// <summary>An HTTP tool an agent can call (OpenAI function format parameters).</summary>
public sealed class Tool
{
    public Guid Id { get; set; }
    /// <summary>Unique snake_case name, as the LLM sees it.</summary>
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    /// <summary>JSON Schema of the arguments.</summary>
    public string Parameters { get; set; } = """{"type":"object","properties":{}}""";
    public required string WebhookUrl { get; set; }
    public ToolMethod Method { get; set; } = ToolMethod.Post;
    /// <summary>JSON object: header name → value.</summary>
    public string Headers { get; set; } = "{}";
    public double TimeoutSeconds { get; set; } = 10;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum ToolMethod
{
    Post,
    Get,
}
