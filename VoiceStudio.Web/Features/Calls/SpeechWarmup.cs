using System.Diagnostics;
using Microsoft.Extensions.Options;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Speech;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Features.Calls;

/// <summary>
/// Loads the speech models in the background at start-up (the VAD model, STT_WARM_DECODERS PocketSphinx decoders,
/// the Flite voice), so the first call does not pay for them; the server answers requests meanwhile. The pool then
/// keeps that many spare decoders, refilled in the background as calls take them.
/// </summary>
public sealed class SpeechWarmup(PocketSphinxPool recognizers, ITextToSpeech tts, VoiceActivityFactory vad, IOptions<VoiceStudioSettings> settings,
    ILogger<SpeechWarmup> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(async () =>
    {
        var watch = Stopwatch.StartNew();
        try
        {
            recognizers.KeepSpare(settings.Value.SttWarmDecoders);
            using var sample = await tts.SynthesizeAsync("Hello.", stoppingToken);
            logger.LogInformation("Speech ready in {Elapsed} ms: {Decoders} PocketSphinx decoders, Flite, {Vad} VAD",
                watch.ElapsedMilliseconds, settings.Value.SttWarmDecoders, vad.UsesSilero ? "Silero" : "energy");
        }
        catch (Exception e) when (e is DllNotFoundException or InvalidOperationException or IOException)
        {
            logger.LogError(e, "Could not load the embedded speech models; calls will fail until this is fixed");
        }
    }, stoppingToken);
}
