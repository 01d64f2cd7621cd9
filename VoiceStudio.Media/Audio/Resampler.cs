using VoiceStudio.Media.Audio.Soxr;

namespace VoiceStudio.Media.Audio;

/// <summary>
/// A streaming mono 16-bit resampler for one direction of one call (libsoxr, medium quality, intermediate phase).
/// Feed it frames as they come; it keeps its filter state between calls. Equal rates pass through untouched.
/// Not thread-safe: one per stream. No allocation per call.
/// </summary>
public sealed class Resampler : IDisposable
{
    private readonly SoxrHandle? _soxr;

    public Resampler(int inputRate, int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputRate, 1000);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputRate, 1000);
        InputRate = inputRate;
        OutputRate = outputRate;
        if (inputRate == outputRate)
        {
            return;
        }
        unsafe
        {
            var io = new SoxrLibrary.IoSpec { InputType = SoxrLibrary.Int16Interleaved, OutputType = SoxrLibrary.Int16Interleaved, Scale = 1.0 };
            var quality = SoxrLibrary.QualitySpecFor(SoxrLibrary.MediumQuality, SoxrLibrary.IntermediatePhase);
            var runtime = SoxrLibrary.RuntimeSpecFor(1);
            _soxr = SoxrLibrary.Create(inputRate, outputRate, 1, out var error, &io, &quality, &runtime);
            if (SoxrLibrary.ErrorText(error) is { } text || _soxr.IsInvalid)
            {
                _soxr.Dispose();
                throw new InvalidOperationException($"libsoxr could not create a {inputRate}→{outputRate} Hz resampler: {SoxrLibrary.ErrorText(error)}");
            }
        }
    }

    public int InputRate { get; }
    public int OutputRate { get; }

    /// <summary>The most samples one <see cref="Process"/> call can write for <paramref name="inputLength"/> samples in.</summary>
    public int MaxOutputLength(int inputLength) => (int)((long)inputLength * OutputRate / InputRate) + 64;

    /// <summary>
    /// Resamples all of <paramref name="input"/>; returns how many samples were written to <paramref name="output"/>,
    /// which must hold <see cref="MaxOutputLength"/> samples. The filter's delay means the first calls write fewer.
    /// </summary>
    public int Process(ReadOnlySpan<short> input, Span<short> output)
    {
        if (input.IsEmpty)
        {
            return 0; // an empty span pins to a null pointer, which libsoxr takes as "end of stream"
        }
        if (_soxr is null)
        {
            input.CopyTo(output);
            return input.Length;
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(output.Length, MaxOutputLength(input.Length));
        return Run(input, output, flush: false);
    }

    /// <summary>
    /// Writes what is still inside the filter (at the end of a stream, e.g. a synthesized sentence) and resets the
    /// resampler so the next <see cref="Process"/> starts a new stream: libsoxr takes no input after a flush until cleared.
    /// </summary>
    public int Flush(Span<short> output)
    {
        if (_soxr is null)
        {
            return 0;
        }
        var written = Run([], output, flush: true);
        if (SoxrLibrary.Clear(_soxr) is var error && error != 0)
        {
            throw new InvalidOperationException($"libsoxr could not reset: {SoxrLibrary.ErrorText(error)}");
        }
        return written;
    }

    private unsafe int Run(ReadOnlySpan<short> input, Span<short> output, bool flush)
    {
        var written = 0;
        fixed (short* inPtr = input)
        fixed (short* outPtr = output)
        {
            var consumed = 0;
            do
            {
                var error = SoxrLibrary.Process(_soxr!,
                    flush ? null : inPtr + consumed, flush ? 0 : (nuint)(input.Length - consumed), out var inputDone,
                    outPtr + written, (nuint)(output.Length - written), out var outputDone);
                if (error != 0)
                {
                    throw new InvalidOperationException($"libsoxr failed: {SoxrLibrary.ErrorText(error)}");
                }
                consumed += (int)inputDone;
                written += (int)outputDone;
                if (flush ? outputDone == 0 : inputDone == 0 && outputDone == 0)
                {
                    break;
                }
            }
            while ((flush || consumed < input.Length) && written < output.Length);
        }
        return written;
    }

    public void Dispose() => _soxr?.Dispose();
}
