using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceStudio.Data.Agents;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Cloud;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>A call's recognizer and voice, and what they used.</summary>
public sealed record CallSpeech(ISpeechRecognizer Recognizer, ITextToSpeech Voice, SpeechUsage Usage);

/// <summary>
/// Builds each call's speech from the agent's choice (SPEC §6): the embedded PocketSphinx and Flite, or Deepgram,
/// OpenAI-compatible transcription, OpenAI-compatible speech, ElevenLabs or Cartesia, each behind the agent's fallback
/// (default: the embedded one) so a wrong key or an outage is a logged error and the embedded voice, not dead air.
/// Where a provider is and its key: <c>provider_settings.{provider}</c> (<c>base_url</c>, <c>api_key</c> or
/// <c>api_key_env</c>, provider options), else the environment (<c>DEEPGRAM_API_KEY</c>, <c>OPENAI_API_KEY</c>,
/// <c>ELEVENLABS_API_KEY</c>; <c>*_BASE_URL</c>).
/// </summary>
public sealed class SpeechProviders(PocketSphinxPool recognizers, ITextToSpeech embeddedVoice, IHttpClientFactory httpClients, IConfiguration configuration)
{
    public static readonly IReadOnlyDictionary<string, Uri> DefaultBaseUrls = new Dictionary<string, Uri>(StringComparer.Ordinal)
    {
        ["deepgram"] = new("https://api.deepgram.com"),
        ["openai"] = new("https://api.openai.com/v1/"),
        ["elevenlabs"] = new("https://api.elevenlabs.io"),
        ["cartesia"] = new("https://api.cartesia.ai"),
    };

    /// <summary>The call's speech; <paramref name="report"/> hears each provider failure once, in words.</summary>
    public CallSpeech For(Agent agent, int callRate, bool textOnly, Action<string> report)
    {
        var usage = new SpeechUsage();
        ISpeechRecognizer Embedded() => new DeferredRecognizer(recognizers.Rent);
        ISpeechRecognizer recognizer;
        if (textOnly)
        {
            recognizer = new NoAudioRecognizer();
        }
        else
        {
            try
            {
                recognizer = agent.SttProvider switch
                {
                    "deepgram" => new FallbackRecognizer(new DeepgramRecognizer(Settings(agent, "deepgram", "deepgram", agent.SttModel, null, agent.SttLanguage), usage), Embedded,
                        reason => report($"speech recognition (deepgram) failed, the embedded recognizer takes over: {reason}")),
                    "openai" => new FallbackRecognizer(new OpenAiTranscriber(httpClients.CreateClient("speech"), Settings(agent, "openai_stt", "openai", agent.SttModel, null, agent.SttLanguage), usage),
                        Embedded, reason => report($"speech recognition (openai) failed, the embedded recognizer takes over: {reason}")),
                    _ => Embedded(),
                };
            }
            catch (SpeechProviderException e)
            {
                report($"speech recognition ({agent.SttProvider}) cannot start, the embedded recognizer is used: {e.Message}");
                recognizer = Embedded();
            }
        }
        ITextToSpeech voice;
        try
        {
            voice = agent.TtsProvider switch
            {
                "openai" => new FallbackTextToSpeech(new OpenAiTextToSpeech(httpClients.CreateClient("speech"),
                    Settings(agent, "openai_tts", "openai", agent.TtsModel, agent.TtsVoice, agent.TtsLanguage), usage), embeddedVoice,
                    reason => report($"speech (openai) failed, the embedded voice takes over: {reason}")),
                "elevenlabs" => new FallbackTextToSpeech(new ElevenLabsTextToSpeech(httpClients.CreateClient("speech"),
                    Settings(agent, "elevenlabs", "elevenlabs", agent.TtsModel, agent.TtsVoice, agent.TtsLanguage), callRate, usage), embeddedVoice,
                    reason => report($"speech (elevenlabs) failed, the embedded voice takes over: {reason}")),
                "cartesia" => new FallbackTextToSpeech(new CartesiaTextToSpeech(Settings(agent, "cartesia", "cartesia", agent.TtsModel, agent.TtsVoice, agent.TtsLanguage),
                    callRate, usage), embeddedVoice, reason => report($"speech (cartesia) failed, the embedded voice takes over: {reason}")),
                _ => embeddedVoice,
            };
        }
        catch (SpeechProviderException e)
        {
            report($"speech ({agent.TtsProvider}) cannot start, the embedded voice is used: {e.Message}");
            voice = embeddedVoice;
        }
        return new CallSpeech(recognizer, voice, usage);
    }

    /// <summary>A provider's place and key for this agent; a problem in words when they cannot work.</summary>
    public CloudSpeechSettings Settings(Agent agent, string section, string provider, string? model, string? voice, string language)
    {
        JsonObject own;
        try
        {
            own = JsonNode.Parse(string.IsNullOrWhiteSpace(agent.ProviderSettings) ? "{}" : agent.ProviderSettings)?[section] as JsonObject ?? [];
        }
        catch (JsonException)
        {
            own = [];
        }
        string? Text(string name) => own[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        var upper = provider.ToUpperInvariant();
        var configured = Text("base_url") ?? configuration[$"{upper}_BASE_URL"];
        var baseUrl = DefaultBaseUrls[provider];
        if (configured is not null && (!Uri.TryCreate(configured, UriKind.Absolute, out baseUrl) || baseUrl.Scheme is not ("http" or "https" or "ws" or "wss")))
        {
            throw new SpeechProviderException($"{section}.base_url '{configured}' is not an http(s) or ws(s) URL");
        }
        var key = Text("api_key") ?? configuration[Text("api_key_env") ?? $"{upper}_API_KEY"];
        if (string.IsNullOrEmpty(key))
        {
            throw new SpeechProviderException($"no API key for {provider}: set provider_settings.{section}.api_key (or api_key_env) or {upper}_API_KEY");
        }
        var options = own.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal);
        return new CloudSpeechSettings(baseUrl, key, string.IsNullOrWhiteSpace(model) ? null : model, string.IsNullOrWhiteSpace(voice) ? null : voice, language) { Options = options };
    }
}
