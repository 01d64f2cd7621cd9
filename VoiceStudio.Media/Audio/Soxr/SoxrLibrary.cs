using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace VoiceStudio.Media.Audio.Soxr;

/// <summary>libsoxr (Debian libsoxr0): the only code that touches its pointers. Use <see cref="Resampler"/>.</summary>
internal static partial class SoxrLibrary
{
    private const string Library = "libsoxr.so.0";

    public const uint Int16Interleaved = 3;     // SOXR_INT16_I
    public const nuint MediumQuality = 2;       // SOXR_MQ: 16-bit precision, medium roll-off
    public const nuint IntermediatePhase = 0x10; // SOXR_INTERMEDIATE_PHASE: less delay than linear phase

    [StructLayout(LayoutKind.Sequential)]
    public struct IoSpec
    {
        public uint InputType;
        public uint OutputType;
        public double Scale;
        public nint E;
        public nuint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct QualitySpec
    {
        public double Precision;
        public double PhaseResponse;
        public double PassbandEnd;
        public double StopbandBegin;
        public nint E;
        public nuint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct RuntimeSpec
    {
        public uint Log2MinDftSize;
        public uint Log2LargeDftSize;
        public uint CoefSizeKbytes;
        public uint NumThreads;
        public nint E;
        public nuint Flags;
    }

    [LibraryImport(Library, EntryPoint = "soxr_quality_spec")]
    public static partial QualitySpec QualitySpecFor(nuint recipe, nuint flags);

    [LibraryImport(Library, EntryPoint = "soxr_runtime_spec")]
    public static partial RuntimeSpec RuntimeSpecFor(uint numThreads);

    [LibraryImport(Library, EntryPoint = "soxr_create")]
    public static unsafe partial SoxrHandle Create(double inputRate, double outputRate, uint channels, out nint error,
        IoSpec* ioSpec, QualitySpec* qualitySpec, RuntimeSpec* runtimeSpec);

    [LibraryImport(Library, EntryPoint = "soxr_process")]
    public static unsafe partial nint Process(SoxrHandle resampler, short* input, nuint inputLength, out nuint inputDone,
        short* output, nuint outputLength, out nuint outputDone);

    [LibraryImport(Library, EntryPoint = "soxr_clear")]
    public static partial nint Clear(SoxrHandle resampler);

    [LibraryImport(Library, EntryPoint = "soxr_delete")]
    public static partial void Delete(nint resampler);

    public static string? ErrorText(nint error) => error == 0 ? null : Marshal.PtrToStringUTF8(error);
}

internal sealed class SoxrHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle()
    {
        SoxrLibrary.Delete(handle);
        return true;
    }
}
