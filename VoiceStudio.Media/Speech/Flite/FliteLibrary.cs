using System.Runtime.InteropServices;

namespace VoiceStudio.Media.Speech.Flite;

/// <summary>Flite (Debian flite / libflite1): the only code that touches its pointers. Use <see cref="FliteSynthesizer"/>.</summary>
internal static partial class FliteLibrary
{
    private const string Core = "libflite.so.1";
    private const string SltVoice = "libflite_cmu_us_slt.so.1";

    /// <summary>cst_wave: type, sample_rate, num_samples, num_channels, samples.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Wave
    {
        public nint Type;
        public int SampleRate;
        public int NumSamples;
        public int NumChannels;
        public nint Samples;
    }

    [LibraryImport(Core, EntryPoint = "flite_init")]
    public static partial int Init();

    [LibraryImport(SltVoice, EntryPoint = "register_cmu_us_slt", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint RegisterSlt(string? voxdir);

    [LibraryImport(Core, EntryPoint = "flite_text_to_wave", StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial Wave* TextToWave(string text, nint voice);

    [LibraryImport(Core, EntryPoint = "delete_wave")]
    public static unsafe partial void DeleteWave(Wave* wave);
}
