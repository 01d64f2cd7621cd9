using System.Diagnostics;

namespace VoiceStudio.Media.Calls;

/// <summary>Something that sends one 20 ms frame per tick (a call's outbound audio).</summary>
public interface IPacedOutput
{
    /// <summary>Sends this tick's frame, if any. Must not block: a stream that cannot send now skips the tick.</summary>
    void Tick();
}

/// <summary>
/// One clock for the outbound audio of every call in the process: a dedicated thread that wakes every 20 ms and
/// lets each registered stream send its next frame. Per-call timers on the shared thread pool drift and bunch up
/// when many calls' inbound frames arrive at once; one clock keeps every call's frames on the same grid, and a
/// stream that is slow to send skips its own tick without delaying the others.
/// </summary>
public sealed class MediaClock : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    private readonly Lock _registration = new();
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private volatile IPacedOutput[] _streams = [];
    private long _ticks;
    private long _lateTicks;

    public MediaClock()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "VoiceStudio media clock", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>The process's clock.</summary>
    public static MediaClock Shared { get; } = new();

    public long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>Ticks that began more than 5 ms after their time (the machine was too busy).</summary>
    public long LateTicks => Interlocked.Read(ref _lateTicks);

    public IDisposable Register(IPacedOutput stream)
    {
        lock (_registration)
        {
            _streams = [.. _streams, stream];
        }
        return new Registration(this, stream);
    }

    private void Unregister(IPacedOutput stream)
    {
        lock (_registration)
        {
            _streams = [.. _streams.Where(s => !ReferenceEquals(s, stream))];
        }
    }

    private void Run()
    {
        var clock = Stopwatch.StartNew();
        var next = Period;
        while (!_stop.IsCancellationRequested)
        {
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
            else if (-wait > TimeSpan.FromMilliseconds(5))
            {
                Interlocked.Increment(ref _lateTicks);
            }
            if (-wait > Period * 5)
            {
                next = clock.Elapsed; // far behind (a paused process): start again from now rather than burst
            }
            next += Period;
            Interlocked.Increment(ref _ticks);
            foreach (var stream in _streams)
            {
                try
                {
                    stream.Tick();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    System.Diagnostics.Trace.TraceError($"A paced output failed its tick: {e}"); // one call's fault never stops the clock
                }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }

    private sealed class Registration(MediaClock clock, IPacedOutput stream) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                clock.Unregister(stream);
            }
        }
    }
}
