using Microsoft.ML.OnnxRuntime;

namespace VoiceStudio.Media.Audio.Vad;

/// <summary>The Silero VAD v5 ONNX model, loaded once and shared by every call (ONNX Runtime sessions are thread-safe).</summary>
public sealed class SileroVadModel : IDisposable
{
    public SileroVadModel(string path)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        Session = new InferenceSession(path, options);
    }

    internal InferenceSession Session { get; }

    public void Dispose() => Session.Dispose();
}

/// <summary>
/// One call's Silero VAD: keeps the model's recurrent state and the last 32 ms / 16 of context (32 samples at
/// 8 kHz, 64 at 16 kHz) between windows. Tensors are bound once (IO binding) to pinned arrays, so a window costs one
/// inference and no allocation.
/// </summary>
public sealed class SileroVad : IVoiceActivity
{
    private const int StateSize = 2 * 128;

    private readonly SileroVadModel _model;
    private readonly int _context;
    private readonly float[] _input;
    private readonly float[] _state = new float[StateSize];
    private readonly float[] _stateOut = new float[StateSize];
    private readonly float[] _probability = new float[1];
    private readonly long[] _rate;
    private readonly OrtValue[] _inputs;
    private readonly OrtValue[] _outputs;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _run = new();

    public SileroVad(SileroVadModel model, int sampleRate)
    {
        IVoiceActivity.CheckRate(sampleRate);
        _model = model;
        SampleRate = sampleRate;
        _rate = [sampleRate];
        _context = sampleRate == 8000 ? 32 : 64;
        _input = new float[_context + ((IVoiceActivity)this).WindowSamples];
        _inputs =
        [
            OrtValue.CreateTensorValueFromMemory(_input, [1, _input.Length]),
            OrtValue.CreateTensorValueFromMemory(_state, [2, 1, 128]),
            OrtValue.CreateTensorValueFromMemory(_rate, []),
        ];
        _outputs =
        [
            OrtValue.CreateTensorValueFromMemory(_probability, [1, 1]),
            OrtValue.CreateTensorValueFromMemory(_stateOut, [2, 1, 128]),
        ];
        _binding = model.Session.CreateIoBinding();
        _binding.BindInput("input", _inputs[0]);
        _binding.BindInput("state", _inputs[1]);
        _binding.BindInput("sr", _inputs[2]);
        _binding.BindOutput("output", _outputs[0]);
        _binding.BindOutput("stateN", _outputs[1]);
    }

    public int SampleRate { get; }

    public float Probability(ReadOnlySpan<short> window)
    {
        var size = _input.Length - _context;
        ArgumentOutOfRangeException.ThrowIfNotEqual(window.Length, size);
        var input = _input.AsSpan();
        input.Slice(size, _context).CopyTo(input); // the previous window's tail is the context
        var fresh = input[_context..];
        for (var i = 0; i < window.Length; i++)
        {
            fresh[i] = window[i] / 32768f;
        }
        _model.Session.RunWithBinding(_run, _binding);
        _stateOut.AsSpan().CopyTo(_state);
        return _probability[0];
    }

    public void Dispose()
    {
        _binding.Dispose();
        foreach (var value in _inputs)
        {
            value.Dispose();
        }
        foreach (var value in _outputs)
        {
            value.Dispose();
        }
        _run.Dispose();
    }
}
