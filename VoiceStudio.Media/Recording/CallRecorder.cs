namespace VoiceStudio.Media.Recording;

/// <param name="LateAgentSamples">Agent samples that arrived after their stretch was final (not recorded).</param>
/// <param name="DroppedSamples">Samples lost because the disk fell more than the ring behind (the file has silence there).</param>
public sealed record RecordingInfo(string Path, double DurationSeconds, long Bytes, long LateAgentSamples, long DroppedSamples);

/// <summary>
/// Records one call as a stereo 16-bit WAV: the caller on the left, the agent on the right, each placed at the
/// sample position where it was heard or actually played (agent audio cleared before it was sent is never written).
/// Both sides meet in a stereo ring; a stretch becomes final <see cref="Latency"/> after the caller's clock passed
/// it, so agent audio reported a little late still lands in place. A background writer wakes every 200 ms, copies
/// the final stretch out of the ring, appends it to the file and refreshes the header, so a crash leaves a playable
/// file (<see cref="WavFile.Repair"/> fixes the last second). The audio threads only copy samples into the ring: no
/// allocation, no I/O, and the lock is this call's own.
/// </summary>
public sealed class CallRecorder : IAsyncDisposable
{
    private const int Channels = 2;
    private static readonly TimeSpan WriteEvery = TimeSpan.FromMilliseconds(200);

    private readonly Lock _gate = new();
    private readonly short[] _ring;      // interleaved L/R, slot = absolute sample % capacity
    private readonly int _capacity;     // samples per channel held in memory
    private readonly int _latency;      // samples per channel kept open for late agent audio
    private readonly FileStream _file;
    private readonly TaskCompletionSource _completing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _writer;
    private long _final;                // samples before this are final (no more writes accepted)
    private long _written;              // samples before this have been copied out by the writer
    private long _callerEnd;
    private long _agentEnd;
    private long _late;
    private long _dropped;
    private RecordingInfo? _info;

    private CallRecorder(string path, int sampleRate, TimeSpan latency)
    {
        Path = path;
        SampleRate = sampleRate;
        _latency = (int)(sampleRate * latency.TotalSeconds);
        _capacity = _latency + sampleRate * 10; // the disk may fall 10 s behind before audio is lost
        _ring = new short[_capacity * Channels];
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 64 * 1024, useAsync: true);
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Path { get; }
    public int SampleRate { get; }
    public TimeSpan Latency => TimeSpan.FromSeconds((double)_latency / SampleRate);

    /// <summary>Starts a recording at <paramref name="path"/> (which must not exist).</summary>
    public static CallRecorder Start(string path, int sampleRate, TimeSpan? latency = null) =>
        new(path, sampleRate, latency ?? TimeSpan.FromSeconds(1));

    /// <summary>Where the caller's audio has reached, in samples: the recording's clock.</summary>
    public long CallerPosition
    {
        get
        {
            lock (_gate)
            {
                return _callerEnd;
            }
        }
    }

    /// <summary>Appends the caller's audio (the left channel) and advances the clock.</summary>
    public void WriteCaller(ReadOnlySpan<short> samples)
    {
        lock (_gate)
        {
            Place(samples, _callerEnd, channel: 0);
            _callerEnd += samples.Length;
            _final = Math.Max(_final, _callerEnd - _latency);
        }
    }

    /// <summary>Places agent audio (the right channel) that was played starting at sample <paramref name="atSample"/>.</summary>
    public void WriteAgent(ReadOnlySpan<short> samples, long atSample)
    {
        lock (_gate)
        {
            _late += Math.Clamp(_final - atSample, 0, samples.Length);
            Place(samples, atSample, channel: 1);
            _agentEnd = Math.Max(_agentEnd, atSample + samples.Length);
        }
    }

    /// <summary>Writes everything, finishes the header and closes the file. Safe to call more than once.</summary>
    public async Task<RecordingInfo> CompleteAsync()
    {
        lock (_gate)
        {
            _final = Math.Max(_final, Math.Max(_callerEnd, _agentEnd));
        }
        _completing.TrySetResult();
        await _writer;
        return _info!;
    }

    public async ValueTask DisposeAsync() => await CompleteAsync();

    private void Place(ReadOnlySpan<short> samples, long at, int channel)
    {
        if (at < _final) // that stretch is final already
        {
            var skip = (int)Math.Min(samples.Length, _final - at);
            samples = samples[skip..];
            at += skip;
        }
        var room = _written + _capacity - at; // never overwrite what the writer has not copied out yet
        if (samples.Length > room)
        {
            var lost = (int)Math.Min(samples.Length, samples.Length - room);
            _dropped += lost;
            samples = samples[..(samples.Length - lost)];
        }
        for (var i = 0; i < samples.Length; i++)
        {
            _ring[(int)((at + i) % _capacity) * Channels + channel] = samples[i];
        }
    }

    private async Task WriteLoopAsync()
    {
        var header = new byte[WavFile.HeaderBytes];
        var block = new byte[SampleRate * Channels * 2]; // up to 1 s per copy
        WavFile.WriteHeader(header, SampleRate, Channels, 0);
        await _file.WriteAsync(header);
        long data = 0, headerAt = 0;
        using var timer = new PeriodicTimer(WriteEvery);
        var completing = false;
        while (true)
        {
            var count = CopyFinal(block);
            if (count > 0)
            {
                _file.Position = WavFile.HeaderBytes + data;
                await _file.WriteAsync(block.AsMemory(0, count));
                data += count;
                if (data - headerAt >= block.Length) // refresh the header every second of audio
                {
                    await WriteHeaderAsync(header, data);
                    headerAt = data;
                }
                continue; // drain before sleeping
            }
            if (completing)
            {
                break;
            }
            completing = await Task.WhenAny(timer.WaitForNextTickAsync().AsTask(), _completing.Task) == _completing.Task;
        }
        await WriteHeaderAsync(header, data);
        var bytes = _file.Length;
        await _file.DisposeAsync();
        _info = new RecordingInfo(Path, (double)data / (SampleRate * Channels * 2), bytes, _late, _dropped);
    }

    /// <summary>Copies the final, not yet written samples into <paramref name="block"/> and clears their slots.</summary>
    private int CopyFinal(byte[] block)
    {
        lock (_gate)
        {
            var count = (int)Math.Min(_final - _written, block.Length / (Channels * 2));
            var output = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(block.AsSpan(0, count * Channels * 2));
            for (var i = 0; i < count; i++)
            {
                var slot = (int)((_written + i) % _capacity) * Channels;
                output[i * 2] = _ring[slot];
                output[i * 2 + 1] = _ring[slot + 1];
                _ring[slot] = 0;
                _ring[slot + 1] = 0;
            }
            _written += count;
            return count * Channels * 2;
        }
    }

    private async Task WriteHeaderAsync(byte[] header, long data)
    {
        WavFile.WriteHeader(header, SampleRate, Channels, data);
        _file.Position = 0;
        await _file.WriteAsync(header);
        await _file.FlushAsync();
    }
}
