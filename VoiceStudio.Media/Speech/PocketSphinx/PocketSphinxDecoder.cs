using System.Runtime.InteropServices;
using System.Text;

namespace VoiceStudio.Media.Speech.PocketSphinx;

/// <summary>Where the acoustic model, language model and dictionary live (Debian pocketsphinx-en-us).</summary>
public sealed record PocketSphinxModel(string AcousticModel, string LanguageModel, string Dictionary)
{
    public static PocketSphinxModel EnglishUs { get; } = new(
        "/usr/share/pocketsphinx/model/en-us/en-us",
        "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
        "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");

    /// <summary>The words the dictionary knows (lower case), for checking phrases before building a grammar. Read once.</summary>
    public IReadOnlySet<string> Words => _words.Value;

    private readonly Lazy<IReadOnlySet<string>> _words = new(() => File.ReadLines(Dictionary)
        .Select(line => line.Split(' ', 2)[0])
        .Select(word => word.Contains('(', StringComparison.Ordinal) ? word[..word.IndexOf('(', StringComparison.Ordinal)] : word)
        .ToHashSet(StringComparer.Ordinal));
}

/// <summary>
/// One PocketSphinx decoder (16 kHz, 16-bit mono). Not thread-safe: one per call. Audio is fed as it arrives;
/// the hypothesis is read at the end of the utterance. Recognition can be constrained to the phrases the current
/// node expects (a JSGF grammar) or use the full English language model.
/// </summary>
public sealed class PocketSphinxDecoder : IDisposable
{
    public const int SampleRate = 16000;
    private const string LanguageModelSearch = "_default";
    private const string PhraseSearch = "phrases";

    private readonly PocketSphinxModel _model;
    private readonly DecoderHandle _decoder = new();
    private readonly Dictionary<string, string> _grammars = new(StringComparer.Ordinal); // phrase set → search name
    private bool _inUtterance;

    static PocketSphinxDecoder()
    {
        // Logging is process-wide in sphinxbase, and "-logfn" makes every new decoder fclose the stream other
        // decoders may be writing to (a use-after-free under concurrent calls). Switch it off once instead.
        PocketSphinxLibrary.SetLogStream(0);
    }

    public PocketSphinxDecoder(PocketSphinxModel model)
    {
        _model = model;
        string[] args =
        [
            "-hmm", model.AcousticModel,
            "-lm", model.LanguageModel,
            "-dict", model.Dictionary,
            "-samprate", "16000",
        ];
        var argv = args.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        try
        {
            var config = PocketSphinxLibrary.ParseConfig(0, PocketSphinxLibrary.Args(), argv.Length, argv, 1);
            if (config == 0)
            {
                throw new InvalidOperationException($"PocketSphinx rejected its configuration (model at {model.AcousticModel}; install pocketsphinx-en-us)");
            }
            _decoder.Attach(PocketSphinxLibrary.Init(config));
            _ = PocketSphinxLibrary.FreeConfig(config); // the decoder keeps its own reference
            if (_decoder.IsInvalid)
            {
                throw new InvalidOperationException($"PocketSphinx could not load the model at {model.AcousticModel}");
            }
        }
        finally
        {
            foreach (var arg in argv)
            {
                Marshal.FreeCoTaskMem(arg);
            }
        }
    }

    /// <summary>The phrases the grammar accepts now, or null when the full language model is used.</summary>
    public IReadOnlyList<string>? Phrases { get; private set; }

    /// <summary>
    /// Constrains recognition to <paramref name="phrases"/> (normalized; words the dictionary lacks are dropped with
    /// their phrase). Null or no usable phrase: the full language model. Returns the phrases actually in the grammar.
    /// </summary>
    public IReadOnlyList<string> UsePhrases(IEnumerable<string>? phrases)
    {
        EnsureIdle();
        var usable = (phrases ?? [])
            .Select(Normalize)
            .Where(p => p.Length > 0 && p.Split(' ').All(_model.Words.Contains))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (usable.Count == 0)
        {
            Check(PocketSphinxLibrary.SetSearch(Handle, LanguageModelSearch), "switch to the language model");
            Phrases = null;
            return usable;
        }
        var key = string.Join('|', usable);
        if (!_grammars.TryGetValue(key, out var search))
        {
            // Compiling a grammar takes tens of milliseconds: each phrase set is compiled once per decoder.
            search = $"{PhraseSearch}{_grammars.Count}";
            var grammar = new StringBuilder("#JSGF V1.0;\ngrammar phrases;\npublic <phrase> = ");
            grammar.AppendJoin(" | ", usable).Append(";\n");
            Check(PocketSphinxLibrary.SetJsgfString(Handle, search, grammar.ToString()), "load the phrase grammar");
            _grammars[key] = search;
        }
        Check(PocketSphinxLibrary.SetSearch(Handle, search), "switch to the phrase grammar");
        Phrases = usable;
        return usable;
    }

    public void StartUtterance()
    {
        EnsureIdle();
        Check(PocketSphinxLibrary.StartUtterance(Handle), "start an utterance");
        _inUtterance = true;
    }

    /// <summary>Feeds 16 kHz samples of the current utterance.</summary>
    public unsafe void Process(ReadOnlySpan<short> samples)
    {
        if (!_inUtterance)
        {
            throw new InvalidOperationException("StartUtterance first");
        }
        if (samples.IsEmpty)
        {
            return; // never hand the decoder a null buffer
        }
        fixed (short* data = samples)
        {
            if (PocketSphinxLibrary.ProcessRaw(Handle, data, (nuint)samples.Length, 0, 0) < 0)
            {
                throw new InvalidOperationException("PocketSphinx failed to process audio");
            }
        }
    }

    /// <summary>Ends the utterance and returns what was recognized ("" for nothing).</summary>
    public string EndUtterance()
    {
        if (!_inUtterance)
        {
            throw new InvalidOperationException("no utterance to end");
        }
        _inUtterance = false;
        Check(PocketSphinxLibrary.EndUtterance(Handle), "end the utterance");
        var hypothesis = PocketSphinxLibrary.Hypothesis(Handle, out _);
        return hypothesis == 0 ? "" : Marshal.PtrToStringUTF8(hypothesis) ?? "";
    }

    /// <summary>The best hypothesis of the utterance so far.</summary>
    public string Partial()
    {
        if (!_inUtterance)
        {
            return "";
        }
        var hypothesis = PocketSphinxLibrary.Hypothesis(Handle, out _);
        return hypothesis == 0 ? "" : Marshal.PtrToStringUTF8(hypothesis) ?? "";
    }

    /// <summary>Recognizes a whole utterance at once.</summary>
    public string Recognize(ReadOnlySpan<short> samples)
    {
        StartUtterance();
        Process(samples);
        return EndUtterance();
    }

    /// <summary>Lower case, letters, digits, apostrophes and single spaces: the form the dictionary uses.</summary>
    public static string Normalize(string phrase)
    {
        var sb = new StringBuilder(phrase.Length);
        foreach (var c in phrase.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c == '\'')
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != ' ')
            {
                sb.Append(' ');
            }
        }
        return sb.ToString().Trim();
    }

    private nint Handle => _decoder.IsInvalid || _decoder.IsClosed ? throw new ObjectDisposedException(nameof(PocketSphinxDecoder)) : _decoder.DangerousGetHandle();

    private void EnsureIdle()
    {
        if (_inUtterance)
        {
            throw new InvalidOperationException("an utterance is in progress");
        }
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
        {
            throw new InvalidOperationException($"PocketSphinx could not {what}");
        }
    }

    public void Dispose() => _decoder.Dispose();

    /// <summary>Frees the native decoder even if Dispose is never called.</summary>
    private sealed class DecoderHandle() : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
    {
        public void Attach(nint decoder) => SetHandle(decoder);

        protected override bool ReleaseHandle() => PocketSphinxLibrary.Free(handle) >= 0;
    }
}
