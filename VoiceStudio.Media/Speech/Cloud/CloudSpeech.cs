using System.Buffers.Binary;
using System.Net.Http.Headers;

namespace VoiceStudio.Media.Speech.Cloud;

/// <summary>Where a cloud speech provider is and how to use it for one agent.</summary>
public sealed record CloudSpeechSettings(Uri BaseUrl, string? ApiKey, string? Model, string? Voice, string Language)
{
    /// <summary>Provider-specific numbers (Deepgram's endpointing and utterance-end times…), from the agent's settings.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    public string Option(string name, string fallback) => Options.TryGetValue(name, out var value) && value.Length > 0 ? value : fallback;
}

/// <summary>A provider refused or failed; the message names the provider and what it said.</summary>
public sealed class SpeechProviderException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What cloud speech used in a call, for the call's usage.</summary>
public sealed class SpeechUsage
{
    private long _sttSamples;
    private long _ttsCharacters;

    public double SttSeconds => Interlocked.Read(ref _sttSamples) / 16000.0;
    public long TtsCharacters => Interlocked.Read(ref _ttsCharacters);

    public void Heard(int samples16k) => Interlocked.Add(ref _sttSamples, samples16k);
    public void Spoke(int characters) => Interlocked.Add(ref _ttsCharacters, characters);
}

internal static class CloudHttp
{
    /// <summary>The answer's status and the start of its body, for an error message.</summary>
    public static async Task<SpeechProviderException> FailureAsync(string provider, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (body.Length > 300)
        {
            body = body[..300] + "…";
        }
        var hint = (int)response.StatusCode is 401 or 403 ? " (check the API key)" : "";
        return new SpeechProviderException($"{provider} answered {(int)response.StatusCode} {response.ReasonPhrase}{hint}: {body}");
    }

    public static Uri Join(Uri baseUrl, string path) => new(baseUrl.ToString().TrimEnd('/') + "/" + path.TrimStart('/'));

    public static void Bearer(HttpRequestMessage request, string? key)
    {
        if (!string.IsNullOrEmpty(key))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    /// <summary>
    /// Reads 16-bit little-endian PCM from a streamed body as it arrives, in chunks of up to <paramref name="chunkBytes"/>;
    /// a sample split across two network reads is carried to the next chunk.
    /// </summary>
    public static async IAsyncEnumerable<AudioChunk> PcmChunksAsync(Stream body, int sampleRate, int chunkBytes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[chunkBytes];
        var carry = 0;
        while (true)
        {
            var read = await body.ReadAsync(buffer.AsMemory(carry), cancellationToken);
            if (read == 0)
            {
                yield break;
            }
            var available = carry + read;
            var whole = available / 2;
            var samples = new short[whole];
            for (var i = 0; i < whole; i++)
            {
                samples[i] = BinaryPrimitives.ReadInt16LittleEndian(buffer.AsSpan(i * 2));
            }
            carry = available - whole * 2;
            if (carry == 1)
            {
                buffer[0] = buffer[available - 1];
            }
            yield return new AudioChunk(samples, sampleRate);
        }
    }
}
