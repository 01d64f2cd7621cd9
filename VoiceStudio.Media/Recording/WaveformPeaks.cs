using System.Buffers;
using System.Buffers.Binary;

namespace VoiceStudio.Media.Recording;

/// <summary>The loudness outline of a recording for drawing: per channel, the loudest sample of each of N equal slices.</summary>
public sealed record Waveform(int SampleRate, double DurationSeconds, float[][] Peaks);

public static class WaveformPeaks
{
    /// <summary>
    /// Reads a 16-bit PCM WAV we wrote (a recording still being written works too: the frames on disk count, not the
    /// header's sizes) and returns <paramref name="slices"/> peaks per channel from 0 to 1; null if it is not such a file.
    /// One pass with one pooled buffer, whatever the recording's length.
    /// </summary>
    public static async Task<Waveform?> ReadAsync(string path, int slices, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slices, 1);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, useAsync: true);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            if (await file.ReadAtLeastAsync(buffer.AsMemory(0, WavFile.HeaderBytes), WavFile.HeaderBytes, throwOnEndOfStream: false, cancellationToken) < WavFile.HeaderBytes
                || WavFile.ReadHeader(buffer.AsSpan(0, WavFile.HeaderBytes)) is not { } header || header.Channels is < 1 or > 8 || header.SampleRate <= 0)
            {
                return null;
            }
            var (rate, channels) = (header.SampleRate, header.Channels);
            var frameBytes = channels * 2;
            var frames = (file.Length - WavFile.HeaderBytes) / frameBytes;
            var peaks = new float[channels][];
            for (var c = 0; c < channels; c++)
            {
                peaks[c] = new float[slices];
            }
            if (frames == 0)
            {
                return new Waveform(rate, 0, peaks);
            }
            var chunk = buffer.Length / frameBytes * frameBytes;
            long frame = 0;
            var carry = 0; // bytes of a frame split across reads, kept at the buffer's start
            while (frame < frames)
            {
                var read = await file.ReadAsync(buffer.AsMemory(carry, chunk - carry), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                var available = carry + read;
                var whole = available / frameBytes;
                Scan(buffer.AsSpan(0, whole * frameBytes), channels, frame, frames, slices, peaks);
                frame += whole;
                carry = available - whole * frameBytes;
                buffer.AsSpan(whole * frameBytes, carry).CopyTo(buffer);
            }
            return new Waveform(rate, frames / (double)rate, peaks);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Scan(ReadOnlySpan<byte> bytes, int channels, long firstFrame, long frames, int slices, float[][] peaks)
    {
        var frameBytes = channels * 2;
        for (var i = 0; i < bytes.Length / frameBytes; i++)
        {
            var slice = (int)((firstFrame + i) * slices / frames);
            for (var c = 0; c < channels; c++)
            {
                var sample = Math.Abs((int)BinaryPrimitives.ReadInt16LittleEndian(bytes[(i * frameBytes + c * 2)..]));
                var level = Math.Min(1f, sample / 32767f);
                if (level > peaks[c][slice])
                {
                    peaks[c][slice] = level;
                }
            }
        }
    }
}
