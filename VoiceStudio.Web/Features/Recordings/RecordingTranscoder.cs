using FFMpegCore;
using FFMpegCore.Enums;

namespace VoiceStudio.Web.Features.Recordings;

/// <summary>Stereo WAV recordings to MP3 for download (FFMpegCore over the Debian ffmpeg binary).</summary>
public static class RecordingTranscoder
{
    /// <summary>Writes <paramref name="mp3Path"/> from <paramref name="wavPath"/> (stereo kept, 64 kbit/s per call is plenty for speech).</summary>
    public static async Task ToMp3Async(string wavPath, string mp3Path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(wavPath))
        {
            throw new FileNotFoundException($"recording {wavPath} does not exist", wavPath);
        }
        var result = await FFMpegArguments
            .FromFileInput(wavPath)
            .OutputToFile(mp3Path, overwrite: true, options => options
                .WithAudioCodec(AudioCodec.LibMp3Lame)
                .WithAudioBitrate(64))
            .ProcessAsynchronously(throwOnError: false, cancellationToken: cancellationToken);
        if (!result.Success || !File.Exists(mp3Path))
        {
            throw new InvalidOperationException(
                $"ffmpeg could not convert {wavPath} to MP3 (exit {result.ExitCode}): {string.Join(" ", result.StandardError.TakeLast(3))}");
        }
    }
}
