using System.Runtime.InteropServices;

namespace VoiceStudio.Media.Speech.PocketSphinx;

/// <summary>
/// CMU PocketSphinx 5prealpha (Debian libpocketsphinx3, libsphinxbase3): the only code that touches its pointers.
/// Use <see cref="PocketSphinxDecoder"/>.
/// </summary>
internal static partial class PocketSphinxLibrary
{
    private const string Decoder = "libpocketsphinx.so.3";
    private const string Base = "libsphinxbase.so.3";

    /// <summary>Sets the process-wide log stream; null disables logging.</summary>
    [LibraryImport(Base, EntryPoint = "err_set_logfp")]
    public static partial void SetLogStream(nint stream);

    [LibraryImport(Decoder, EntryPoint = "ps_args")]
    public static partial nint Args();

    [LibraryImport(Base, EntryPoint = "cmd_ln_parse_r")]
    public static partial nint ParseConfig(nint config, nint definitions, int argc, nint[] argv, int strict);

    [LibraryImport(Base, EntryPoint = "cmd_ln_free_r")]
    public static partial int FreeConfig(nint config);

    [LibraryImport(Decoder, EntryPoint = "ps_init")]
    public static partial nint Init(nint config);

    [LibraryImport(Decoder, EntryPoint = "ps_free")]
    public static partial int Free(nint decoder);

    [LibraryImport(Decoder, EntryPoint = "ps_start_utt")]
    public static partial int StartUtterance(nint decoder);

    [LibraryImport(Decoder, EntryPoint = "ps_process_raw")]
    public static unsafe partial int ProcessRaw(nint decoder, short* data, nuint samples, int noSearch, int fullUtterance);

    [LibraryImport(Decoder, EntryPoint = "ps_end_utt")]
    public static partial int EndUtterance(nint decoder);

    [LibraryImport(Decoder, EntryPoint = "ps_get_hyp")]
    public static partial nint Hypothesis(nint decoder, out int bestScore);

    [LibraryImport(Decoder, EntryPoint = "ps_set_jsgf_string", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetJsgfString(nint decoder, string name, string grammar);

    [LibraryImport(Decoder, EntryPoint = "ps_set_search", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetSearch(nint decoder, string name);
}
