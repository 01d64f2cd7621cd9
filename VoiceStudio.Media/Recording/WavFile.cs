using System.Buffers.Binary;

namespace VoiceStudio.Media.Recording;

/// <summary>The 44-byte header of a 16-bit PCM WAV file, and repair of headers a crash left unfinished.</summary>
public static class WavFile
{
    public const int HeaderBytes = 44;

    public static void WriteHeader(Span<byte> header, int sampleRate, int channels, long dataBytes)
    {
        var data = (uint)Math.Min(dataBytes, uint.MaxValue - 36);
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 36 + data);
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1); // PCM
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)(sampleRate * channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], (ushort)(channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], data);
    }

    /// <summary>Sample rate, channels and declared data size of a header we wrote; null if it is not one.</summary>
    public static (int SampleRate, int Channels, long DataBytes)? ReadHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderBytes || !header[..4].SequenceEqual("RIFF"u8) || !header[8..12].SequenceEqual("WAVE"u8)
            || !header[36..40].SequenceEqual("data"u8) || BinaryPrimitives.ReadUInt16LittleEndian(header[20..]) != 1)
        {
            return null;
        }
        return (
            (int)BinaryPrimitives.ReadUInt32LittleEndian(header[24..]),
            BinaryPrimitives.ReadUInt16LittleEndian(header[22..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[40..]));
    }

    /// <summary>
    /// Makes a WAV file left by a crash playable: the header's sizes are set to the whole frames on disk and a torn
    /// last frame is cut off. Returns true when something was fixed.
    /// </summary>
    public static bool Repair(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (file.Length < HeaderBytes || file.Read(header) < HeaderBytes || ReadHeader(header) is not { } format)
        {
            return false;
        }
        var frame = format.Channels * 2;
        var data = (file.Length - HeaderBytes) / frame * frame;
        if (data == format.DataBytes && file.Length == HeaderBytes + data)
        {
            return false;
        }
        file.SetLength(HeaderBytes + data);
        WriteHeader(header, format.SampleRate, format.Channels, data);
        file.Position = 0;
        file.Write(header);
        return true;
    }

    /// <summary>Repairs every .wav under <paramref name="directory"/>; returns the repaired paths.</summary>
    public static IReadOnlyList<string> RepairAll(string directory, Func<string, bool>? skip = null)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var repaired = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory, "*.wav", SearchOption.AllDirectories))
        {
            if (skip?.Invoke(path) != true && Repair(path))
            {
                repaired.Add(path);
            }
        }
        return repaired;
    }
}
