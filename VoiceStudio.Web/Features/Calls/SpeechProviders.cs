using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceStudio.Data.Agents;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Cloud;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>A call's recognizer and voice, and what they used.</summary>
public sealed record CallSpeech(ISpeechRecognizer Recognizer, ITextToSpeech Voice, SpeechUsage Usage);

/// <summary>
/// Builds each call's speech from the agent's choice (SPEC §6): the embedded PocketSphinx and Flite, or Deepgram,
/// OpenAI-compatible transcription, OpenAI-compatible speech, ElevenLabs or Cartesia, each behind the agent's fallback
/// (default: the embedded one) so a wrong key or an outage is a logged error and the embedded voice, not dead air.
/// Where a provider is and its key: the agent's <c>provider_settings.{provider}</c> (<c>base_url</c>, <c>api_key</c> or
/// <c>api_key_env</c>, provider options), else the installation's account (<see cref="SpeechAccounts"/>, encrypted),
/// else the environment (<c>DEEPGRAM_API_KEY</c>, <c>OPENAI_API_KEY</c>, <c>ELEVENLABS_API_KEY</c>,
/// <c>CARTESIA_API_KEY</c>; <c>*_BASE_URL</c>).
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

    public static readonly IReadOnlyList<string> CloudRecognizers = ["deepgram", "openai"];
    public static readonly IReadOnlyList<string> CloudVoices = ["openai", "elevenlabs", "cartesia"];

    /// <summary>
    /// The call's speech; <paramref name="report"/> hears each provider failure once, in words. Behind the agent's
    /// provider is its fallback (<c>provider_settings.fallback.stt</c> / <c>.tts</c>, another cloud provider or the
    /// embedded one, the default), and behind a cloud fallback the embedded speech, so a call always has a voice.
    /// </summary>
    public CallSpeech For(Agent agent, IReadOnlyDictionary<string, SpeechAccount> accounts, int callRate, bool textOnly, Action<string> report, bool muLawLine = false)
    {
        var usage = new SpeechUsage();
        var (sttFallback, ttsFallback) = FallbacksOf(agent);
        ISpeechRecognizer Embedded() => new DeferredRecognizer(recognizers.Rent);
        ISpeechRecognizer WithFallback(string provider, Func<ISpeechRecognizer> next)
        {
            try
            {
                return new FallbackRecognizer(Recognizer(agent, accounts, provider, usage, muLawLine), next,
                    reason => report($"speech recognition ({provider}) failed, {(next == Embedded ? "the embedded recognizer" : "the fallback")} takes over: {reason}"));
            }
            catch (SpeechProviderException e)
            {
                report($"speech recognition ({provider}) cannot start, {(next == Embedded ? "the embedded recognizer" : "the fallback")} is used: {e.Message}");
                return next();
            }
        }
        ITextToSpeech VoiceWithFallback(string provider, ITextToSpeech next)
        {
            try
            {
                return new FallbackTextToSpeech(Voice(agent, accounts, provider, callRate, usage), next,
                    reason => report($"speech ({provider}) failed, {(next == embeddedVoice ? "the embedded voice" : "the fallback voice")} takes over: {reason}"));
            }
            catch (SpeechProviderException e)
            {
                report($"speech ({provider}) cannot start, {(next == embeddedVoice ? "the embedded voice" : "the fallback voice")} is used: {e.Message}");
                return next;
            }
        }
        ISpeechRecognizer recognizer = textOnly ? new NoAudioRecognizer()
            : !CloudRecognizers.Contains(agent.SttProvider) ? Embedded()
            : WithFallback(agent.SttProvider, CloudRecognizers.Contains(sttFallback) && sttFallback != agent.SttProvider
                ? () => WithFallback(sttFallback, Embedded)
                : Embedded);
        var voice = !CloudVoices.Contains(agent.TtsProvider) ? embeddedVoice
            : VoiceWithFallback(agent.TtsProvider, CloudVoices.Contains(ttsFallback) && ttsFallback != agent.TtsProvider
                ? VoiceWithFallback(ttsFallback, embeddedVoice)
                : embeddedVoice);
        return new CallSpeech(recognizer, voice, usage);
    }

    /// <summary>The agent's fallback providers (default: the embedded ones).</summary>
    public static (string Stt, string Tts) FallbacksOf(Agent agent)
    {
        try
        {
            var fallback = JsonNode.Parse(string.IsNullOrWhiteSpace(agent.ProviderSettings) ? "{}" : agent.ProviderSettings)?["fallback"] as JsonObject;
            return (fallback?["stt"]?.ToString() ?? SpeechDefaults.SttProvider, fallback?["tts"]?.ToString() ?? SpeechDefaults.TtsProvider);
        }
        catch (JsonException)
        {
            return (SpeechDefaults.SttProvider, SpeechDefaults.TtsProvider);
        }
    }

    /// <summary>A cloud recognizer with no fallback (throws <see cref="SpeechProviderException"/> when its settings cannot work).</summary>
    public ISpeechRecognizer Recognizer(Agent agent, IReadOnlyDictionary<string, SpeechAccount> accounts, string provider, SpeechUsage? usage, bool muLawLine = false) => provider switch
    {
        "deepgram" => new DeepgramRecognizer(Settings(agent, accounts, "deepgram", "deepgram", agent.SttModel, null, agent.SttLanguage), usage, muLawLine),
        "openai" => new OpenAiTranscriber(httpClients.CreateClient("speech"), Settings(agent, accounts, "openai_stt", "openai", agent.SttModel, null, agent.SttLanguage), usage),
        _ => throw new SpeechProviderException($"'{provider}' is not a cloud recognizer ({string.Join(", ", CloudRecognizers)})"),
    };

    /// <summary>A cloud voice with no fallback (throws <see cref="SpeechProviderException"/> when its settings cannot work).</summary>
    public IStreamingTextToSpeech Voice(Agent agent, IReadOnlyDictionary<string, SpeechAccount> accounts, string provider, int callRate, SpeechUsage? usage) => provider switch
    {
        "openai" => new OpenAiTextToSpeech(httpClients.CreateClient("speech"), Settings(agent, accounts, "openai_tts", "openai", agent.TtsModel, agent.TtsVoice, agent.TtsLanguage), usage),
        "elevenlabs" => new ElevenLabsTextToSpeech(httpClients.CreateClient("speech"), Settings(agent, accounts, "elevenlabs", "elevenlabs", agent.TtsModel, agent.TtsVoice, agent.TtsLanguage), callRate, usage),
        "cartesia" => new CartesiaTextToSpeech(Settings(agent, accounts, "cartesia", "cartesia", agent.TtsModel, agent.TtsVoice, agent.TtsLanguage), callRate, usage),
        _ => throw new SpeechProviderException($"'{provider}' is not a cloud voice ({string.Join(", ", CloudVoices)})"),
    };

    /// <summary>
    /// The agent's voice saying a sample sentence, as WAV, with no fallback: the editor's "test voice". A missing or
    /// refused key comes back as the problem, in words.
    /// </summary>
    public async Task<(byte[]? Wav, string? Problem)> SampleAsync(Agent agent, IReadOnlyDictionary<string, SpeechAccount> accounts, string sentence, CancellationToken cancellationToken)
    {
        try
        {
            SynthesizedAudio audio;
            if (CloudVoices.Contains(agent.TtsProvider))
            {
                var voice = Voice(agent, accounts, agent.TtsProvider, 16000, null);
                try
                {
                    audio = await voice.SynthesizeAsync(sentence, cancellationToken);
                }
                finally
                {
                    (voice as IDisposable)?.Dispose();
                }
            }
            else
            {
                audio = await embeddedVoice.SynthesizeAsync(sentence, cancellationToken);
            }
            using (audio)
            {
                var wav = new byte[Media.Recording.WavFile.HeaderBytes + audio.Length * 2];
                Media.Recording.WavFile.WriteHeader(wav, audio.SampleRate, 1, audio.Length * 2);
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(audio.Samples).CopyTo(wav.AsSpan(Media.Recording.WavFile.HeaderBytes));
                return audio.Length == 0 ? (null, $"{agent.TtsProvider} sent no audio") : (wav, null);
            }
        }
        catch (Exception e) when (e is SpeechProviderException or HttpRequestException or TaskCanceledException)
        {
            return (null, e is TaskCanceledException ? $"{agent.TtsProvider} did not answer in time" : e.Message);
        }
    }

    /// <summary>A provider's place and key for this agent; a problem in words when they cannot work.</summary>
    public CloudSpeechSettings Settings(Agent agent, IReadOnlyDictionary<string, SpeechAccount> accounts, string section, string provider, string? model, string? voice, string language)
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
        var account = accounts.GetValueOrDefault(provider);
        var configured = Text("base_url") ?? account?.BaseUrl ?? configuration[$"{upper}_BASE_URL"];
        var baseUrl = DefaultBaseUrls[provider];
        if (configured is not null && (!Uri.TryCreate(configured, UriKind.Absolute, out baseUrl) || baseUrl.Scheme is not ("http" or "https" or "ws" or "wss")))
        {
            throw new SpeechProviderException($"{section}.base_url '{configured}' is not an http(s) or ws(s) URL");
        }
        var key = Text("api_key") ?? (Text("api_key_env") is { } variable ? configuration[variable] : account?.ApiKey ?? configuration[$"{upper}_API_KEY"]);
        if (string.IsNullOrEmpty(key))
        {
            throw new SpeechProviderException($"no API key for {provider}: set it in Settings → Speech providers, or provider_settings.{section}.api_key (or api_key_env), or {upper}_API_KEY");
        }
        var options = own.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal);
        // The embedded voice's name means "not chosen" to a cloud provider: its own default voice speaks.
        var chosenVoice = string.IsNullOrWhiteSpace(voice) || voice == SpeechDefaults.TtsVoice ? null : voice;
        return new CloudSpeechSettings(baseUrl, key, string.IsNullOrWhiteSpace(model) ? null : model, chosenVoice, language) { Options = options };
    }
}
