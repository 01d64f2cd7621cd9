using System.Net.Http.Json;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Media.Speech.Cloud;

/// <summary>
/// OpenAI-compatible speech (<c>POST {base}/audio/speech</c>, <c>response_format: pcm</c>): raw 24 kHz 16-bit mono,
/// streamed as it is made. Works with OpenAI and self-hosted servers that speak the same API.
/// </summary>
public sealed class OpenAiTextToSpeech(HttpClient http, CloudSpeechSettings settings, SpeechUsage? usage = null) : IStreamingTextToSpeech
{
    public int SampleRate => 24000;

    public async IAsyncEnumerable<AudioChunk> StreamAsync(string text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, CloudHttp.Join(settings.BaseUrl, "audio/speech"))
        {
            Content = JsonContent.Create(new { model = settings.Model ?? "tts-1", input = text, voice = settings.Voice ?? "alloy", response_format = "pcm" }),
        };
        CloudHttp.Bearer(request, settings.ApiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new SpeechProviderException($"openai speech at {settings.BaseUrl} cannot be reached: {e.Message}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await CloudHttp.FailureAsync("openai speech", response, cancellationToken);
            }
            usage?.Spoke(text.Length);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var chunk in CloudHttp.PcmChunksAsync(body, SampleRate, 4800, cancellationToken))
            {
                yield return chunk;
            }
        }
    }

    public async Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
        await SpeechStreams.CollectAsync(StreamAsync(text, cancellationToken), SampleRate);
}

/// <summary>
/// ElevenLabs streaming speech (<c>POST {base}/v1/text-to-speech/{voice}/stream?output_format=pcm_{rate}</c>, header
/// <c>xi-api-key</c>): raw PCM at the call's own rate where ElevenLabs offers it (8, 16, 22.05, 24 kHz), so phone
/// calls need no resampling.
/// </summary>
public sealed class ElevenLabsTextToSpeech(HttpClient http, CloudSpeechSettings settings, int callRate, SpeechUsage? usage = null) : IStreamingTextToSpeech
{
    public int SampleRate { get; } = callRate is 8000 or 16000 or 22050 or 24000 ? callRate : 16000;

    public async IAsyncEnumerable<AudioChunk> StreamAsync(string text, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var voice = Uri.EscapeDataString(settings.Voice ?? "21m00Tcm4TlvDq8ikWAM");
        using var request = new HttpRequestMessage(HttpMethod.Post, CloudHttp.Join(settings.BaseUrl, $"v1/text-to-speech/{voice}/stream?output_format=pcm_{SampleRate}"))
        {
            Content = JsonContent.Create(new { text, model_id = settings.Model ?? "eleven_flash_v2_5" }),
        };
        if (!string.IsNullOrEmpty(settings.ApiKey))
        {
            request.Headers.Add("xi-api-key", settings.ApiKey);
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new SpeechProviderException($"elevenlabs at {settings.BaseUrl} cannot be reached: {e.Message}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await CloudHttp.FailureAsync("elevenlabs", response, cancellationToken);
            }
            usage?.Spoke(text.Length);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var chunk in CloudHttp.PcmChunksAsync(body, SampleRate, SampleRate / 25 * 2, cancellationToken))
            {
                yield return chunk;
            }
        }
    }

    public async Task<SynthesizedAudio> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
        await SpeechStreams.CollectAsync(StreamAsync(text, cancellationToken), SampleRate);
}

public static class SpeechStreams
{
    /// <summary>A whole sentence from a stream (for callers that want it in one piece).</summary>
    public static async Task<SynthesizedAudio> CollectAsync(IAsyncEnumerable<AudioChunk> chunks, int sampleRate)
    {
        var all = new List<short>();
        await foreach (var chunk in chunks)
        {
            all.AddRange(chunk.Samples.Span);
        }
        var pool = System.Buffers.ArrayPool<short>.Shared;
        var buffer = pool.Rent(Math.Max(1, all.Count));
        all.CopyTo(buffer);
        return new SynthesizedAudio(pool, buffer, all.Count, sampleRate);
    }
}
