using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VoiceStudio.Media.Audio;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Recording;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Telephony;

namespace VoiceStudio.Media.Calls;

/// <summary>A message-oriented duplex connection to the provider (a WebSocket in production).</summary>
public interface ICallTransport
{
    /// <summary>Receives one whole message into <paramref name="buffer"/>: its length and kind, or <see cref="TransportMessage.Closed"/>.</summary>
    ValueTask<TransportMessage> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Sends one message: text (a JSON protocol message) or binary (raw audio, the browser protocol).</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> message, bool binary, CancellationToken cancellationToken);

    ValueTask CloseAsync(string reason);
}

/// <summary>One received message: <see cref="Length"/> bytes, binary or text; a negative length once the transport closed.</summary>
public readonly record struct TransportMessage(int Length, bool Binary = false)
{
    public static TransportMessage Closed => new(-1);

    public bool IsClosed => Length < 0;
}

/// <summary>The agent's pipeline settings the session applies.</summary>
public sealed record CallSessionOptions
{
    public VadSettings Vad { get; init; } = new();
    public bool Interruptions { get; init; } = true;
    public int MinWordsToInterrupt { get; init; }
    public TimeSpan UserIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Idle timeouts in a row after which the call is ended.</summary>
    public int MaxIdlePrompts { get; init; } = 2;
    public TimeSpan MaxCallDuration { get; init; } = TimeSpan.FromHours(2);
    /// <summary>
    /// Typed turns only (the browser test console's chat): no audio in or out, no recording, no idle timer; the
    /// agent's replies are reported sentence by sentence without being synthesized.
    /// </summary>
    public bool TextOnly { get; init; }
    /// <summary>The clock that paces outbound audio (one per process).</summary>
    public MediaClock Clock { get; init; } = MediaClock.Shared;
}

/// <summary>
/// One live call: provider messages in, conversation in the middle, provider messages out. Two flows run per call,
/// the receive loop (parse, decode, record, VAD, recognize) and the conversation worker (replies, sentence by
/// sentence through TTS into the outbound queue), and the process's <see cref="MediaClock"/> takes one 20 ms frame
/// from the queue to the wire every 20 ms (<see cref="Tick"/>). Data goes one way;
/// barge-in and hang-up travel as cancellation. Nothing here is shared with other calls except the thread pool and
/// the read-only models, so a slow call slows only itself.
/// </summary>
public sealed class CallSession : IDisposable, IPacedOutput
{
    private static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(20);

    private readonly CallSessionOptions _options;
    private readonly TelephonySerializer _serializer;
    private readonly ICallTransport _transport;
    private readonly IConversation _conversation;
    private readonly ISpeechRecognizer _recognizer;
    private readonly ITextToSpeech _tts;
    private readonly VoiceActivityFactory _vad;
    private readonly ICallObserver _observer;
    private readonly Func<StreamInfo, string> _recordingPath;
    private readonly Func<StreamInfo, CancellationToken, ValueTask<string?>>? _admit;
    private readonly ILogger _logger;
    private readonly Channel<Input> _inputs = Channel.CreateUnbounded<Input>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _ended = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _send = new(1, 1); // one message at a time on the socket, and in the serializer's buffer
    private readonly Stopwatch _clock = new();

    // Outbound audio, at the stream's rate: the pacer plays it, barge-in empties it.
    private short[] _outbound = [];
    private int _outHead;
    private int _outTail;
    private readonly Queue<(string Text, long EndSample)> _segments = new();
    private long _queuedSamples;
    private long _playedSamples;
    private long _lastSegmentEnd;
    private string _spokenText = "";
    private CancellationTokenSource _reply = new();
    private bool _replyInProgress;

    // The recognizer belongs to the receive loop; the worker only publishes the phrases the next turn expects and
    // whether the current step may be interrupted, so nothing but the worker ever calls into the conversation.
    private volatile IReadOnlyList<string>? _nextPhrases;
    private volatile bool _phrasesChanged;
    private volatile bool _allowInterrupt = true;
    private volatile bool _disposed;

    // Receive buffers, used by one receive flow at a time (before and after the start message).
    private readonly byte[] _message = new byte[TelephonySerializer.MaxMessageBytes];
    private readonly byte[] _audio = new byte[TelephonySerializer.MaxAudioBytes];

    private TurnDetector? _detector;
    private Resampler? _toRecognizer;
    private CallRecorder? _recorder;
    private StreamInfo? _stream;
    private int _rate;
    private bool _userSpeaking;
    private TimeSpan _lastActivity;
    private int _idleCount;
    private int _turn;
    private TurnTiming? _timing;
    private double? _greetingStartMs;
    private CallEnd? _end;
    private string? _pendingEnd;
    private string? _transferTo;

    private readonly Func<CallEnd, ValueTask>? _agentEnded;

    public CallSession(
        CallSessionOptions options,
        TelephonySerializer serializer,
        ICallTransport transport,
        IConversation conversation,
        ISpeechRecognizer recognizer,
        ITextToSpeech tts,
        VoiceActivityFactory vad,
        ICallObserver observer,
        Func<StreamInfo, string> recordingPath,
        ILogger logger,
        Func<StreamInfo, CancellationToken, ValueTask<string?>>? admit = null,
        Func<CallEnd, ValueTask>? agentEnded = null)
    {
        _agentEnded = agentEnded;
        _options = options;
        _serializer = serializer;
        _transport = transport;
        _conversation = conversation;
        _recognizer = recognizer;
        _tts = tts;
        _vad = vad;
        _observer = observer;
        _recordingPath = recordingPath;
        _logger = logger;
        _admit = admit;
    }

    /// <summary>The stream's metadata once its start message has arrived.</summary>
    public StreamInfo? Stream => _stream;

    /// <summary>Runs the call to its end; returns how it ended.</summary>
    public async Task<CallEnd> RunAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token);
        linked.CancelAfter(_options.MaxCallDuration);
        Task worker = Task.CompletedTask;
        IDisposable? paced = null;
        var reason = "caller hung up";
        try
        {
            if (await ReceiveUntilStartAsync(linked.Token) is { } refused)
            {
                reason = refused;
            }
            else
            {
                worker = Task.Run(() => WorkAsync(linked.Token), CancellationToken.None);
                paced = _options.Clock.Register(this);
                reason = await ReceiveAsync(linked.Token);
            }
        }
        catch (OperationCanceledException) when (_pendingEnd is not null || _ended.IsCancellationRequested || linked.IsCancellationRequested)
        {
            reason = _pendingEnd ?? (cancellationToken.IsCancellationRequested ? "server shutting down" : "maximum call duration reached");
        }
        catch (TelephonyProtocolException e)
        {
            reason = $"protocol error: {e.Message}";
            _logger.LogWarning("Call stream {StreamId} closed on a protocol error: {Reason}", _stream?.StreamId, e.Message);
        }
        await _ended.CancelAsync();
        paced?.Dispose();
        _inputs.Writer.TryComplete();
        await Quietly(worker);
        await _send.WaitAsync(CancellationToken.None); // a send the clock started may still be in flight
        _send.Release();
        var recording = _recorder is null ? null : await _recorder.CompleteAsync();
        _end = new CallEnd(_pendingEnd ?? reason, _pendingEnd is not null, recording, _transferTo);
        if (_stream is not null && _end.ByAgent && _agentEnded is not null)
        {
            try
            {
                await _agentEnded(_end); // the provider's hang-up or transfer, while the stream is still open
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError(e, "Ending call stream {StreamId} through the provider failed", _stream.StreamId);
            }
        }
        if (_stream is not null)
        {
            _observer.Ended(_end);
        }
        await _transport.CloseAsync(_end.Reason);
        return _end;
    }

    public void Dispose()
    {
        _disposed = true;
        _toRecognizer?.Dispose();
        _detector?.Dispose();
        _reply.Dispose();
        _ended.Dispose();
        _send.Dispose();
    }

    private TimeSpan Now => _clock.Elapsed;

    // ---------------------------------------------------------------- receive loop

    /// <summary>
    /// The next message that parses (audio decoded into <see cref="_audio"/>), or null once the transport closed. A
    /// message that does not parse is logged and skipped: bad input never ends a call.
    /// </summary>
    private async ValueTask<InboundMessage?> ReceiveNextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var received = await _transport.ReceiveAsync(_message, cancellationToken);
            if (received.IsClosed)
            {
                return null;
            }
            try
            {
                return _serializer.Parse(_message.AsSpan(0, received.Length), received.Binary, _audio);
            }
            catch (TelephonyProtocolException e)
            {
                _logger.LogWarning("Ignored a bad message on stream {StreamId}: {Reason}", _stream?.StreamId ?? "(not started)", e.Message);
            }
        }
    }

    /// <summary>Null once the stream has started; otherwise why it never did.</summary>
    private async Task<string?> ReceiveUntilStartAsync(CancellationToken cancellationToken)
    {
        var early = 0;
        while (true)
        {
            if (await ReceiveNextAsync(cancellationToken) is not { } parsed)
            {
                return "the stream closed before it started";
            }
            if (parsed.Kind == InboundKind.Start)
            {
                var start = parsed.Start!;
                var stream = new StreamInfo(_serializer.Provider, start.StreamId, start.CallId, start.From, start.To, start.CustomParameters, start.SampleRate);
                if (_admit is not null && await _admit(stream, cancellationToken) is { } refusal)
                {
                    _logger.LogWarning("Refused stream {StreamId}: {Reason}", start.StreamId, refusal);
                    return $"stream refused: {refusal}";
                }
                Begin(stream);
                return null;
            }
            if (parsed.Kind == InboundKind.Stop)
            {
                return "the stream closed before it started";
            }
            if (parsed.Kind == InboundKind.Media && early++ == 0)
            {
                _logger.LogWarning("Ignored media before the stream's start message");
            }
        }
    }

    private void Begin(StreamInfo stream)
    {
        _clock.Start();
        _rate = stream.SampleRate;
        _stream = stream;
        var vadRate = _rate >= 16000 ? 16000 : 8000;
        _detector = new TurnDetector(_vad.Create(vadRate), _options.Vad);
        _toRecognizer = new Resampler(_rate, 16000);
        _outbound = new short[_rate * 10]; // grows when a reply is longer (Enqueue)
        _recorder = _options.TextOnly ? null : CallRecorder.Start(_recordingPath(_stream), _rate);
        _recognizer.ExpectPhrases(_conversation.ExpectedPhrases);
        _allowInterrupt = _conversation.AllowInterrupt;
        _observer.Started(_stream);
        _greetingStartMs = 0;
        _lastActivity = Now;
        _inputs.Writer.TryWrite(new Input.Greeting());
    }

    private async Task<string> ReceiveAsync(CancellationToken cancellationToken)
    {
        var audio = _audio;
        var pcm = new short[TelephonySerializer.MaxAudioBytes];
        var wide = new short[_toRecognizer!.MaxOutputLength(pcm.Length)];
        // Only a 24 kHz stream needs its audio brought to a VAD rate.
        using var vadResampler = _rate is 8000 or 16000 ? null : new Resampler(_rate, _rate > 16000 ? 16000 : 8000);
        var vadPcm = vadResampler is null ? [] : new short[vadResampler.MaxOutputLength(pcm.Length)];
        var preRoll = new short[16000 * 6 / 10]; // the last 0.6 s at 16 kHz, fed to the recognizer when speech starts
        var preRollEnd = 0L;
        // A recognizer that takes the line's own μ-law gets the provider's bytes (and its own 0.6 s pre-roll of them).
        _muLaw = _recognizer is IMuLawRecognizer { AcceptsMuLaw: true } raw && _serializer.Encoding == AudioEncoding.MuLaw && _rate == 8000 ? raw : null;
        _muLawPreRoll = _muLaw is null ? [] : new byte[8000 * 6 / 10];
        var ignoredMedia = 0;
        while (true)
        {
            if (await ReceiveNextAsync(cancellationToken) is not { } parsed)
            {
                return "caller hung up";
            }
            switch (parsed.Kind)
            {
                case InboundKind.Media when _recorder is null:
                    if (ignoredMedia++ == 0)
                    {
                        _logger.LogWarning("Ignored audio on text-only stream {StreamId}", _stream!.StreamId);
                    }
                    break;
                case InboundKind.Media:
                    var samples = Decode(audio.AsSpan(0, parsed.AudioBytes), pcm);
                    _muLawFrame = _muLaw is null ? default : audio.AsMemory(0, parsed.AudioBytes);
                    _recorder!.WriteCaller(pcm.AsSpan(0, samples));
                    var wideCount = _toRecognizer.Process(pcm.AsSpan(0, samples), wide);
                    var speechEvent = vadResampler is null
                        ? _detector!.Process(pcm.AsSpan(0, samples))
                        : _detector!.Process(vadPcm.AsSpan(0, vadResampler.Process(pcm.AsSpan(0, samples), vadPcm)));
                    OnAudio(wide.AsSpan(0, wideCount), speechEvent, preRoll, ref preRollEnd);
                    break;
                case InboundKind.Dtmf:
                    _lastActivity = Now;
                    _idleCount = 0;
                    _observer.Dtmf(parsed.Digit, Now);
                    _inputs.Writer.TryWrite(new Input.Digit(parsed.Digit));
                    break;
                case InboundKind.Text:
                    OnTyped(parsed.Text ?? "");
                    break;
                case InboundKind.Mark:
                case InboundKind.Cleared:
                    break;
                case InboundKind.Stop:
                    return "caller hung up";
                case InboundKind.Unknown:
                    _logger.LogDebug("Ignored a {Event} message", parsed.Event);
                    break;
                default:
                    break;
            }
        }
    }

    private int Decode(ReadOnlySpan<byte> payload, Span<short> pcm)
    {
        if (_serializer.Encoding == AudioEncoding.MuLaw)
        {
            MuLaw.Decode(payload, pcm);
            return payload.Length;
        }
        var count = payload.Length / 2;
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(payload[..(count * 2)]).CopyTo(pcm);
        return count;
    }

    private IMuLawRecognizer? _muLaw;
    private byte[] _muLawPreRoll = [];
    private long _muLawPreRollEnd;
    private ReadOnlyMemory<byte> _muLawFrame;

    private void OnAudio(ReadOnlySpan<short> wide, SpeechEvent speechEvent, short[] preRoll, ref long preRollEnd)
    {
        var raw = _muLaw is { AcceptsMuLaw: true } ? _muLaw : null;
        if (speechEvent == SpeechEvent.Started)
        {
            _userSpeaking = true;
            _lastActivity = Now;
            if (_phrasesChanged)
            {
                _phrasesChanged = false;
                _recognizer.ExpectPhrases(_nextPhrases);
            }
            _recognizer.StartUtterance();
            for (var i = (int)Math.Min(_muLawPreRollEnd, _muLawPreRoll.Length); raw is not null && i > 0;)
            {
                var start = (int)((_muLawPreRollEnd - i) % _muLawPreRoll.Length);
                var run = Math.Min(i, _muLawPreRoll.Length - start);
                raw.FeedMuLaw(_muLawPreRoll.AsSpan(start, run));
                i -= run;
            }
            var keep = raw is not null ? 0 : (int)Math.Min(preRollEnd, preRoll.Length); // feed the speech that came before the VAD was sure
            for (var i = keep; i > 0;)
            {
                var start = (int)((preRollEnd - i) % preRoll.Length);
                var run = Math.Min(i, preRoll.Length - start);
                _recognizer.Feed(preRoll.AsSpan(start, run));
                i -= run;
            }
            if (_options.MinWordsToInterrupt == 0)
            {
                TryBargeIn();
            }
        }
        if (_userSpeaking)
        {
            if (raw is not null)
            {
                raw.FeedMuLaw(_muLawFrame.Span);
            }
            else
            {
                _recognizer.Feed(wide);
            }
            if (_options.MinWordsToInterrupt > 0 && AgentSpeaking
                && _recognizer.Partial().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= _options.MinWordsToInterrupt)
            {
                TryBargeIn();
            }
        }
        foreach (var sample in wide)
        {
            preRoll[preRollEnd++ % preRoll.Length] = sample;
        }
        foreach (var b in _muLaw is null ? [] : _muLawFrame.Span)
        {
            _muLawPreRoll[_muLawPreRollEnd++ % _muLawPreRoll.Length] = b;
        }
        if (speechEvent == SpeechEvent.Stopped && _userSpeaking)
        {
            _userSpeaking = false;
            var vadStop = Now;
            var finishing = _recognizer.FinishUtteranceAsync();
            if (finishing.IsCompletedSuccessfully && _pendingFinal.IsCompleted)
            {
                Heard(finishing.Result, vadStop);
            }
            else
            {
                _pendingFinal = AwaitFinalAsync(finishing.AsTask(), vadStop, _pendingFinal); // a cloud recognizer: the call goes on meanwhile
            }
        }
    }

    private Task _pendingFinal = Task.CompletedTask;

    private async Task AwaitFinalAsync(Task<string> finishing, TimeSpan vadStop, Task previous)
    {
        await previous; // turns keep their order
        string text;
        try
        {
            text = await finishing;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning(e, "The recognizer failed to finish an utterance; the turn is taken as silence");
            text = "";
        }
        Heard(text, vadStop);
    }

    private void Heard(string text, TimeSpan vadStop)
    {
        var sttFinal = Now;
        _lastActivity = Now;
        _idleCount = 0;
        _observer.UserSpoke(text, Now);
        _inputs.Writer.TryWrite(new Input.UserTurn(text, vadStop, sttFinal) { FirstInterim = (_recognizer as IInterimTiming)?.FirstInterim });
    }

    /// <summary>A typed turn (browser test console): it cuts the agent off like speech would, then is the caller's turn.</summary>
    private void OnTyped(string text)
    {
        if (!_options.TextOnly)
        {
            TryBargeIn(); // in a chat, a turn typed while the agent's reply is still arriving simply waits its turn
        }
        _lastActivity = Now;
        _idleCount = 0;
        _observer.UserSpoke(text, Now);
        _inputs.Writer.TryWrite(new Input.UserTurn(text, Now, Now));
    }

    // ---------------------------------------------------------------- barge-in

    private bool AgentSpeaking
    {
        get
        {
            lock (_gate)
            {
                return _replyInProgress || _outTail != _outHead;
            }
        }
    }

    private void TryBargeIn()
    {
        if (!_options.Interruptions || !_allowInterrupt || !AgentSpeaking)
        {
            return;
        }
        string spoken;
        CancellationTokenSource reply;
        lock (_gate)
        {
            reply = _reply;
            _outHead = _outTail;
            if (_segments.TryPeek(out var playing) && _playedSamples > _lastSegmentEnd)
            {
                _spokenText += playing.Text + "… "; // cut off part way through this sentence
            }
            _queuedSamples = _playedSamples;
            _lastSegmentEnd = _playedSamples;
            _segments.Clear();
            spoken = _spokenText.Trim();
            _spokenText = "";
        }
        reply.Cancel();
        _ = SendAsync(s => s.Clear());
        _observer.Interrupted(spoken, Now);
        _inputs.Writer.TryWrite(new Input.Interruption(spoken));
    }

    // ---------------------------------------------------------------- conversation worker

    private abstract record Input
    {
        public sealed record Greeting : Input;
        public sealed record UserTurn(string Text, TimeSpan VadStop, TimeSpan SttFinal) : Input
        {
            public TimeSpan? FirstInterim { get; init; }
        }
        public sealed record Digit(char Value) : Input;
        public sealed record Idle(int Times) : Input;
        public sealed record Interruption(string Spoken) : Input;
    }

    private sealed class TurnTiming(int turn, TimeSpan vadStop, TimeSpan sttFinal)
    {
        public int Turn { get; } = turn;
        public TimeSpan VadStop { get; } = vadStop;
        public TimeSpan SttFinal { get; } = sttFinal;
        public TimeSpan? FirstText { get; set; }
        public TimeSpan? FirstAudio { get; set; }
        public TimeSpan? FirstInterim { get; init; }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        await foreach (var input in _inputs.Reader.ReadAllAsync(cancellationToken))
        {
            if (input is Input.Interruption interruption)
            {
                _conversation.Interrupted(interruption.Spoken);
                continue;
            }
            CancellationTokenSource reply;
            lock (_gate)
            {
                _reply.Dispose();
                _reply = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                reply = _reply;
                _replyInProgress = true;
            }
            if (input is Input.UserTurn turn)
            {
                _timing = new TurnTiming(++_turn, turn.VadStop, turn.SttFinal) { FirstInterim = turn.FirstInterim };
            }
            try
            {
                var outputs = input switch
                {
                    Input.Greeting => _conversation.StartAsync(reply.Token),
                    Input.UserTurn t => _conversation.UserSpokeAsync(t.Text, reply.Token),
                    Input.Digit d => _conversation.DtmfAsync(d.Value, reply.Token),
                    Input.Idle i => _conversation.UserIdleAsync(i.Times, reply.Token),
                    _ => throw new InvalidOperationException(),
                };
                await SpeakAsync(outputs, reply.Token);
            }
            catch (OperationCanceledException) when (reply.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // barge-in: the rest of this reply is dropped
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogError(e, "The conversation failed on stream {StreamId}; the call goes on", _stream?.StreamId);
            }
            finally
            {
                lock (_gate)
                {
                    _replyInProgress = false;
                }
            }
            _nextPhrases = _conversation.ExpectedPhrases;
            _phrasesChanged = true;
            _allowInterrupt = _conversation.AllowInterrupt;
        }
    }

    private async Task SpeakAsync(IAsyncEnumerable<ConversationOutput> outputs, CancellationToken cancellationToken)
    {
        var splitter = new SentenceSplitter();
        await foreach (var output in outputs.WithCancellation(cancellationToken))
        {
            switch (output)
            {
                case Say say:
                    _allowInterrupt = _conversation.AllowInterrupt; // the step speaking now decides
                    if (_timing is { FirstText: null } timing)
                    {
                        timing.FirstText = Now;
                    }
                    foreach (var sentence in splitter.Add(say.Text + " "))
                    {
                        await SynthesizeAsync(sentence, cancellationToken);
                    }
                    break;
                case HangUp hangUp:
                    await FlushAsync(splitter, cancellationToken);
                    await EndAfterPlayingAsync(hangUp.Reason, null, cancellationToken);
                    return;
                case Transfer transfer:
                    await FlushAsync(splitter, cancellationToken);
                    await EndAfterPlayingAsync($"transferred to {transfer.Number}", transfer.Number, cancellationToken);
                    return;
                case Trace trace:
                    _observer.Traced(trace);
                    break;
            }
        }
        await FlushAsync(splitter, cancellationToken);
    }

    private async Task FlushAsync(SentenceSplitter splitter, CancellationToken cancellationToken)
    {
        if (splitter.Flush() is { } rest)
        {
            await SynthesizeAsync(rest, cancellationToken);
        }
    }

    private async Task SynthesizeAsync(string sentence, CancellationToken cancellationToken)
    {
        if (_options.TextOnly)
        {
            _observer.AgentSpoke(sentence, Now);
            return;
        }
        if (_tts is IStreamingTextToSpeech streaming)
        {
            await StreamSentenceAsync(streaming, sentence, cancellationToken);
            return;
        }
        using var audio = await _tts.SynthesizeAsync(sentence, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        if (_timing is { FirstAudio: null } timing)
        {
            timing.FirstAudio = Now;
        }
        // Each sentence is its own clip: a fresh resampler, flushed to its end (reusing one across a flush garbles the join).
        using var toStream = new Resampler(_tts.SampleRate, _rate);
        var converted = new short[toStream.MaxOutputLength(audio.Length) + 1024];
        var count = toStream.Process(audio.Samples, converted);
        count += toStream.Flush(converted.AsSpan(count));
        _observer.AgentSpoke(sentence, Now);
        lock (_gate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Enqueue(converted.AsSpan(0, count));
            _queuedSamples += count;
            _segments.Enqueue((sentence, _queuedSamples));
        }
    }

    /// <summary>
    /// A streaming provider's sentence: each chunk is resampled and queued as it arrives, so the caller hears the
    /// start while the rest is made. The sentence counts as spoken from its first audio.
    /// </summary>
    private async Task StreamSentenceAsync(IStreamingTextToSpeech streaming, string sentence, CancellationToken cancellationToken)
    {
        Resampler? toStream = null;
        var rate = 0;
        var spoke = false;
        var buffer = System.Buffers.ArrayPool<short>.Shared.Rent(8192);
        try
        {
            await foreach (var chunk in streaming.StreamAsync(sentence, cancellationToken))
            {
                if (chunk.Samples.IsEmpty)
                {
                    continue;
                }
                if (!spoke)
                {
                    spoke = true;
                    if (_timing is { FirstAudio: null } timing)
                    {
                        timing.FirstAudio = Now;
                    }
                    _observer.AgentSpoke(sentence, Now);
                }
                if (toStream is null || rate != chunk.SampleRate)
                {
                    if (toStream is not null)
                    {
                        QueueResampled(toStream, ReadOnlySpan<short>.Empty, ref buffer, flush: true, cancellationToken);
                        toStream.Dispose();
                    }
                    rate = chunk.SampleRate;
                    toStream = new Resampler(rate, _rate);
                }
                QueueResampled(toStream, chunk.Samples.Span, ref buffer, flush: false, cancellationToken);
            }
            if (toStream is not null)
            {
                QueueResampled(toStream, ReadOnlySpan<short>.Empty, ref buffer, flush: true, cancellationToken);
            }
            if (!spoke)
            {
                _observer.AgentSpoke(sentence, Now);
            }
            lock (_gate)
            {
                _segments.Enqueue((sentence, _queuedSamples));
            }
        }
        finally
        {
            toStream?.Dispose();
            System.Buffers.ArrayPool<short>.Shared.Return(buffer);
        }
    }

    private void QueueResampled(Resampler resampler, ReadOnlySpan<short> input, ref short[] buffer, bool flush, CancellationToken cancellationToken)
    {
        var needed = resampler.MaxOutputLength(input.Length) + 1024;
        if (buffer.Length < needed)
        {
            System.Buffers.ArrayPool<short>.Shared.Return(buffer);
            buffer = System.Buffers.ArrayPool<short>.Shared.Rent(needed);
        }
        var count = input.IsEmpty ? 0 : resampler.Process(input, buffer);
        if (flush)
        {
            count += resampler.Flush(buffer.AsSpan(count));
        }
        lock (_gate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Enqueue(buffer.AsSpan(0, count));
            _queuedSamples += count;
        }
    }

    private void Enqueue(ReadOnlySpan<short> samples)
    {
        var free = (_outHead - _outTail - 1 + _outbound.Length) % _outbound.Length;
        if (samples.Length > free)
        {
            var bigger = new short[Math.Max(_outbound.Length * 2, _outbound.Length + samples.Length)];
            var used = Dequeue(bigger);
            _outbound = bigger;
            _outHead = 0;
            _outTail = used;
        }
        foreach (var sample in samples)
        {
            _outbound[_outTail] = sample;
            _outTail = (_outTail + 1) % _outbound.Length;
        }
    }

    private int Dequeue(Span<short> into)
    {
        var count = 0;
        while (_outHead != _outTail && count < into.Length)
        {
            into[count++] = _outbound[_outHead];
            _outHead = (_outHead + 1) % _outbound.Length;
        }
        return count;
    }

    private async Task EndAfterPlayingAsync(string reason, string? transferTo, CancellationToken cancellationToken)
    {
        while (AgentQueued)
        {
            await Task.Delay(Frame, cancellationToken);
        }
        _transferTo = transferTo;
        _pendingEnd = reason;
        await _ended.CancelAsync();
    }

    private bool AgentQueued
    {
        get
        {
            lock (_gate)
            {
                return _outTail != _outHead;
            }
        }
    }

    // ---------------------------------------------------------------- pacer

    private short[]? _frame;
    private byte[]? _encoded;
    private bool _wasSpeaking;
    private int _marks;

    /// <summary>
    /// Called by the media clock every 20 ms, on its thread: the next frame of agent audio goes to the socket. Never
    /// blocks: if this call's previous message is still being sent, the frame waits for the next tick.
    /// </summary>
    public void Tick()
    {
        if (_disposed || _ended.IsCancellationRequested || _recorder is null || !_send.Wait(0))
        {
            return;
        }
        var sending = false;
        try
        {
            _frame ??= new short[_rate / 50];
            _encoded ??= new byte[_frame.Length * 2];
            int count;
            lock (_gate)
            {
                count = Dequeue(_frame);
                _playedSamples += count;
                while (_segments.TryPeek(out var segment) && segment.EndSample <= _playedSamples)
                {
                    _spokenText += segment.Text + " ";
                    _lastSegmentEnd = segment.EndSample;
                    _segments.Dequeue();
                }
            }
            if (count == 0)
            {
                if (_wasSpeaking)
                {
                    _wasSpeaking = false;
                    _lastActivity = Now;
                    sending = Start(_serializer.Mark($"played-{++_marks}"));
                }
                CheckIdle();
                return;
            }
            _frame.AsSpan(count).Clear();
            _wasSpeaking = true;
            _lastActivity = Now;
            var bytes = Encode(_frame, _encoded);
            sending = Start(_serializer.Media(_encoded.AsSpan(0, bytes)), _serializer.BinaryMedia);
            _recorder.WriteAgent(_frame, Math.Max(0, _recorder.CallerPosition));
            MeasureFirstFrame();
        }
        finally
        {
            if (!sending)
            {
                _send.Release();
            }
        }
    }

    /// <summary>Starts a send; true when it is still in flight (it then releases the send gate itself).</summary>
    private bool Start(ReadOnlyMemory<byte> message, bool binary = false)
    {
        var pending = _transport.SendAsync(message, binary, _ended.Token);
        if (pending.IsCompleted)
        {
            Observe(pending);
            return false;
        }
        _ = FinishAsync(pending);
        return true;
    }

    private void Observe(ValueTask pending)
    {
        try
        {
            pending.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            _logger.LogDebug("Send failed on stream {StreamId}: {Reason}", _stream?.StreamId, e.Message);
        }
    }

    private async Task FinishAsync(ValueTask pending)
    {
        try
        {
            await pending;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            _logger.LogDebug("Send failed on stream {StreamId}: {Reason}", _stream?.StreamId, e.Message);
        }
        finally
        {
            _send.Release();
        }
    }

    private int Encode(ReadOnlySpan<short> frame, Span<byte> encoded)
    {
        if (_serializer.Encoding == AudioEncoding.MuLaw)
        {
            MuLaw.Encode(frame, encoded);
            return frame.Length;
        }
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(frame).CopyTo(encoded);
        return frame.Length * 2;
    }

    private void MeasureFirstFrame()
    {
        if (_greetingStartMs is not null)
        {
            _observer.GreetingMeasured(Now.TotalMilliseconds);
            _greetingStartMs = null;
        }
        if (_timing is { } timing)
        {
            _timing = null;
            var stop = timing.VadStop;
            _observer.TurnMeasured(new TurnLatency(
                timing.Turn,
                _options.Vad.StopSeconds,
                (timing.SttFinal - stop).TotalMilliseconds,
                ((timing.FirstText ?? Now) - stop).TotalMilliseconds,
                ((timing.FirstAudio ?? Now) - stop).TotalMilliseconds,
                (Now - stop).TotalMilliseconds)
            {
                SttFirstInterimMs = timing.FirstInterim?.TotalMilliseconds,
            });
        }
    }

    private void CheckIdle()
    {
        if (_userSpeaking || AgentSpeaking || Now - _lastActivity < _options.UserIdleTimeout)
        {
            return;
        }
        _lastActivity = Now;
        _idleCount++;
        _observer.UserIdle(_idleCount, Now);
        if (_idleCount > _options.MaxIdlePrompts)
        {
            _pendingEnd = "caller idle";
            _ = _ended.CancelAsync(); // callbacks run off the clock's thread
            return;
        }
        _inputs.Writer.TryWrite(new Input.Idle(_idleCount));
    }

    private async Task SendAsync(Func<TelephonySerializer, ReadOnlyMemory<byte>> write)
    {
        await _send.WaitAsync();
        try
        {
            await _transport.SendAsync(write(_serializer), binary: false, _ended.Token);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _send.Release();
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
