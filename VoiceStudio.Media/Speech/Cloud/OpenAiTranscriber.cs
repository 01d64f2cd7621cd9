using System.Net.Http.Headers;
using System.Text.Json;

namespace VoiceStudio.Media.Speech.Cloud;

/// <summary>
/// OpenAI-compatible transcription (<c>POST {base}/audio/transcriptions</c>, multipart WAV, per utterance): OpenAI's
/// Whisper and self-hosted Whisper servers. The utterance is kept while the caller speaks (pooled) and sent when the
/// turn ends.
/// </summary>
public sealed class OpenAiTranscriber(HttpClient http, CloudSpeechSettings settings, SpeechUsage? usage = null) : ISpeechRecognizer
{
    private short[] _audio = System.Buffers.ArrayPool<short>.Shared.Rent(16000 * 8);
    private int _length;

    public void ExpectPhrases(IReadOnlyList<string>? phrases)
    {
    }

    public void StartUtterance() => _length = 0;

    public void Feed(ReadOnlySpan<short> samples16k)
    {
        if (_length + samples16k.Length > _audio.Length)
        {
            var bigger = System.Buffers.ArrayPool<short>.Shared.Rent(Math.Max(_audio.Length * 2, _length + samples16k.Length));
            _audio.AsSpan(0, _length).CopyTo(bigger);
            System.Buffers.ArrayPool<short>.Shared.Return(_audio);
            _audio = bigger;
        }
        samples16k.CopyTo(_audio.AsSpan(_length));
        _length += samples16k.Length;
    }

    public string Partial() => "";

    public async ValueTask<string> FinishUtteranceAsync()
    {
        var wav = new byte[Recording.WavFile.HeaderBytes + _length * 2];
        Recording.WavFile.WriteHeader(wav, 16000, 1, _length * 2);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(_audio.AsSpan(0, _length)).CopyTo(wav.AsSpan(Recording.WavFile.HeaderBytes));
        usage?.Heard(_length);
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(wav);
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(file, "file", "utterance.wav");
        form.Add(new StringContent(settings.Model ?? "whisper-1"), "model");
        form.Add(new StringContent(settings.Language.Split('-')[0]), "language");
        form.Add(new StringContent("json"), "response_format");
        using var request = new HttpRequestMessage(HttpMethod.Post, CloudHttp.Join(settings.BaseUrl, "audio/transcriptions")) { Content = form };
        CloudHttp.Bearer(request, settings.ApiKey);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            throw new SpeechProviderException($"openai transcription at {settings.BaseUrl} cannot be reached: {e.Message}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await CloudHttp.FailureAsync("openai transcription", response, CancellationToken.None);
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return document.RootElement.TryGetProperty("text", out var text) ? (text.GetString() ?? "").Trim() : "";
        }
    }

    public void Dispose() => System.Buffers.ArrayPool<short>.Shared.Return(_audio);
}
