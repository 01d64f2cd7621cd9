namespace VoiceStudio.Data.Telephony;

/// <summary>
/// A cloud speech provider's account for the whole installation (deepgram, openai, elevenlabs, cartesia): where it
/// is and its key, encrypted with ASP.NET Data Protection like the telephony tokens. An agent's own
/// <c>provider_settings</c> override it; the environment fills in what is not set.
/// </summary>
public sealed class SpeechProviderSettings
{
    public const string TableName = "speech_providers";

    public required string Provider { get; set; }
    public string? BaseUrl { get; set; }
    public string? ApiKeyProtected { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
