using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using VoiceStudio.Media.Audio;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Flite;

namespace VoiceStudio.Media.Simulation;

/// <summary>One exchange as the caller heard it: what it said (or pressed), what the agent answered, the gap on the wire.</summary>
public sealed record SimulatedTurn(string Caller, string Agent, double AgentAudioSeconds, double? LatencyMs);

public sealed record SimulatedCallResult(
    string Provider,
    string? CallId,
    string StreamUrl,
    IReadOnlyList<SimulatedTurn> Turns,
    double? GreetingMs,
    string Ended,
    int MediaFramesSent,
    int MarksEchoed,
    int ClearsReceived);

public sealed record SimulatedCallerOptions
{
    /// <summary>Transcribe the agent's audio with PocketSphinx (costs a decoder per caller).</summary>
    public bool Transcribe { get; init; } = true;
    /// <summary>Quiet after agent audio that counts as the end of the agent's turn.</summary>
    public TimeSpan AgentQuiet { get; init; } = TimeSpan.FromMilliseconds(900);
    /// <summary>The longest the whole call may take.</summary>
    public TimeSpan MaxCallDuration { get; init; } = TimeSpan.FromMinutes(5);
    public string From { get; init; } = "+15550100001";
    public string To { get; init; } = "+15550100002";
    /// <summary>
    /// The provider account's auth token (Twilio, Vobiz) or webhook secret (Exotel), to sign the webhook request as
    /// the provider would; null sends it unsigned (accepted only when the server does not verify requests).
    /// </summary>
    public string? WebhookSecret { get; init; }
    /// <summary>Called (on the pacing thread, keep it short) when the last sample of an utterance has been sent, with its text.</summary>
    public Action<string>? CallerStoppedSpeaking { get; init; }
    /// <summary>The provider's id of the call (CallSid, CallUUID); random when not given.</summary>
    public string? ProviderCallId { get; init; }
    /// <summary>Hears each line as the call goes (for the command line).</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>
/// A phone caller as a telephony provider presents it: asks the inbound webhook for the stream URL (TwiML, Vobiz XML
/// or Exotel's JSON), opens the media socket, sends the provider's start message, streams caller audio at 20 ms
/// frames in real time (Flite speech, silence between), DTMF and stop; plays the agent's audio back in real time,
/// echoing marks/checkpoints when played and dropping audio on clear. Reports each turn with the agent's speech
/// transcribed by PocketSphinx and the latency measured on the wire (end of caller speech → first agent audio).
/// </summary>
public sealed class SimulatedCaller : IAsyncDisposable
{
    private const int Rate = 8000;
    private const int FrameSamples = 160;

    private readonly string _provider;
    private readonly SimulatedCallerOptions _options;
    private readonly PocketSphinxPool? _recognizers;
    private readonly ClientWebSocket _socket = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Queue<short> _speech = new();
    private readonly List<(string Name, TimeSpan At)> _pendingMarks = [];
    private readonly List<short> _agentTurnAudio = [];
    private readonly List<SimulatedTurn> _turns = [];
    private readonly List<Task<SimulatedTurn>> _transcriptions = [];
    private readonly string _streamId = "MZ" + Guid.NewGuid().ToString("N")[..30];
    private readonly string _providerCallId;
    private TimeSpan _playEnd;
    private TimeSpan _startedAt;
    private TimeSpan? _agentStartedAt;
    private TimeSpan? _lastAgentAudio;
    private TimeSpan? _callerFinishedAt;
    private double? _pendingLatency;
    private double? _greetingMs;
    private string _lastCallerLine = "(greeting)";
    private int _agentTurnsDone;
    private int _framesSent;
    private int _marksEchoed;
    private int _clears;
    private volatile bool _closed;
    private string? _closeReason;

    private SimulatedCaller(string provider, SimulatedCallerOptions options, PocketSphinxPool? recognizers)
    {
        _provider = provider;
        _options = options;
        _recognizers = options.Transcribe ? recognizers : null;
        _providerCallId = options.ProviderCallId ?? "CA" + Guid.NewGuid().ToString("N")[..30];
    }

    /// <summary>
    /// An outbound call answered: the provider opens the stream it was given when the call was placed (the URL and
    /// stream parameters from the markup our outbound API sent it) and the callee plays the script.
    /// </summary>
    public static async Task<SimulatedCallResult> AnswerAsync(string provider, Uri streamUrl, Dictionary<string, string> parameters, IReadOnlyList<CallerStep> script,
        SimulatedCallerOptions options, PocketSphinxPool? recognizers, CancellationToken cancellationToken)
    {
        await using var caller = new SimulatedCaller(provider, options, recognizers);
        return await caller.StreamAsync(streamUrl, parameters, script, cancellationToken);
    }

    /// <summary>Places one call to <paramref name="agent"/> on the server at <paramref name="baseUrl"/> and plays the script.</summary>
    public static async Task<SimulatedCallResult> RunAsync(Uri baseUrl, string provider, string agent, IReadOnlyList<CallerStep> script,
        SimulatedCallerOptions options, PocketSphinxPool? recognizers, HttpClient http, CancellationToken cancellationToken)
    {
        if (provider is not ("twilio" or "exotel" or "vobiz"))
        {
            throw new ArgumentException($"'{provider}' is not twilio, exotel or vobiz", nameof(provider));
        }
        await using var caller = new SimulatedCaller(provider, options, recognizers);
        return await caller.CallAsync(baseUrl, agent, script, http, cancellationToken);
    }

    private async Task<SimulatedCallResult> CallAsync(Uri baseUrl, string agent, IReadOnlyList<CallerStep> script, HttpClient http, CancellationToken cancellationToken)
    {
        var (streamUrl, parameters) = await AskWebhookAsync(baseUrl, agent, http, cancellationToken);
        return await StreamAsync(streamUrl, parameters, script, cancellationToken);
    }

    private async Task<SimulatedCallResult> StreamAsync(Uri streamUrl, Dictionary<string, string> parameters, IReadOnlyList<CallerStep> script, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_options.MaxCallDuration);
        parameters.TryGetValue("call_id", out var callId);
        callId ??= System.Web.HttpUtility.ParseQueryString(streamUrl.Query)["call_id"];
        await _socket.ConnectAsync(streamUrl, limit.Token);
        var receiving = ReceiveAsync(limit.Token);
        await SendStartAsync(parameters, limit.Token);
        _startedAt = _clock.Elapsed;
        var pacing = PaceAsync(limit.Token);
        try
        {
            foreach (var step in script)
            {
                if (_closed)
                {
                    break;
                }
                await RunStepAsync(step, limit.Token);
            }
            if (!_closed && (script.Count == 0 || script[^1] is not CallerStep.HangUp))
            {
                await WaitUntilAsync(() => _closed, _options.MaxCallDuration, limit.Token); // the agent hangs up
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _closeReason ??= "the simulated call ran out of time";
        }
        _closed = true;
        await Quietly(pacing);
        await Quietly(receiving);
        FinishAgentTurn(force: true);
        var turns = await Task.WhenAll(_transcriptions);
        return new SimulatedCallResult(_provider, callId, streamUrl.ToString(), turns, _greetingMs, _closeReason ?? "closed", _framesSent, _marksEchoed, _clears);
    }

    // ------------------------------------------------------------------ the webhook, as the provider calls it

    private async Task<(Uri Url, Dictionary<string, string> Parameters)> AskWebhookAsync(Uri baseUrl, string agent, HttpClient http, CancellationToken cancellationToken)
    {
        var webhook = new Uri(baseUrl, $"/telephony/{_provider}/inbound/{Uri.EscapeDataString(agent)}");
        var form = _provider switch
        {
            "vobiz" => new Dictionary<string, string> { ["CallUUID"] = _providerCallId, ["From"] = _options.From, ["To"] = _options.To, ["Direction"] = "inbound", ["CallStatus"] = "ringing" },
            "exotel" => new Dictionary<string, string> { ["CallSid"] = _providerCallId, ["CallFrom"] = _options.From, ["CallTo"] = _options.To, ["Direction"] = "incoming" },
            _ => new Dictionary<string, string> { ["CallSid"] = _providerCallId, ["AccountSid"] = "ACsimulated", ["From"] = _options.From, ["To"] = _options.To, ["CallStatus"] = "ringing", ["Direction"] = "inbound" },
        };
        if (_provider == "exotel" && _options.WebhookSecret is { } exotelSecret)
        {
            webhook = new Uri($"{webhook}?secret={Uri.EscapeDataString(exotelSecret)}");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = new FormUrlEncodedContent(form) };
        if (_options.WebhookSecret is { } secret)
        {
            switch (_provider)
            {
                case "twilio":
                    request.Headers.Add("X-Twilio-Signature", Telephony.WebhookSignatures.Twilio(secret, webhook.ToString(), form));
                    break;
                case "vobiz":
                    var nonce = Guid.NewGuid().ToString("N");
                    request.Headers.Add("X-Vobiz-Signature-V3-Nonce", nonce);
                    request.Headers.Add("X-Vobiz-Signature-V3", Telephony.WebhookSignatures.VobizV3(secret, webhook, form, nonce));
                    break;
                default:
                    break;
            }
        }
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"the inbound webhook {webhook} answered {(int)response.StatusCode}: {body}");
        }
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (_provider)
        {
            case "twilio":
                var stream = XDocument.Parse(body).Descendants("Stream").FirstOrDefault() ?? throw new InvalidOperationException($"no <Stream> in the TwiML: {body}");
                foreach (var parameter in stream.Elements("Parameter"))
                {
                    parameters[(string?)parameter.Attribute("name") ?? ""] = (string?)parameter.Attribute("value") ?? "";
                }
                return (new Uri((string?)stream.Attribute("url") ?? throw new InvalidOperationException("the <Stream> has no url")), parameters);
            case "vobiz":
                var element = XDocument.Parse(body).Descendants("Stream").FirstOrDefault() ?? throw new InvalidOperationException($"no <Stream> in the XML: {body}");
                if ((string?)element.Attribute("bidirectional") != "true")
                {
                    throw new InvalidOperationException("the <Stream> is not bidirectional");
                }
                return (new Uri(element.Value.Trim()), parameters);
            default:
                using (var json = JsonDocument.Parse(body))
                {
                    return (new Uri(json.RootElement.GetProperty("url").GetString()!), parameters);
                }
        }
    }

    // ------------------------------------------------------------------ what the provider sends

    private async Task SendStartAsync(Dictionary<string, string> parameters, CancellationToken cancellationToken)
    {
        object start = _provider switch
        {
            "twilio" => new Dictionary<string, object>
            {
                ["event"] = "start",
                ["sequenceNumber"] = "1",
                ["streamSid"] = _streamId,
                ["start"] = new Dictionary<string, object>
                {
                    ["accountSid"] = "ACsimulated",
                    ["streamSid"] = _streamId,
                    ["callSid"] = _providerCallId,
                    ["tracks"] = new[] { "inbound" },
                    ["customParameters"] = parameters,
                    ["mediaFormat"] = new { encoding = "audio/x-mulaw", sampleRate = Rate, channels = 1 },
                },
            },
            "exotel" => new Dictionary<string, object>
            {
                ["event"] = "start",
                ["sequence_number"] = 1,
                ["stream_sid"] = _streamId,
                ["start"] = new Dictionary<string, object>
                {
                    ["stream_sid"] = _streamId,
                    ["call_sid"] = _providerCallId,
                    ["account_sid"] = "simulated",
                    ["from"] = _options.From,
                    ["to"] = _options.To,
                    ["custom_parameters"] = parameters,
                    ["media_format"] = new Dictionary<string, string> { ["encoding"] = "base64", ["sample_rate"] = "8000", ["bit_rate"] = "128kbps" },
                },
            },
            _ => new Dictionary<string, object>
            {
                ["event"] = "start",
                ["sequenceNumber"] = 0,
                ["start"] = new Dictionary<string, object>
                {
                    ["callId"] = _providerCallId,
                    ["streamId"] = _streamId,
                    ["accountId"] = "MAsimulated",
                    ["tracks"] = new[] { "inbound" },
                    ["mediaFormat"] = new { encoding = "audio/x-mulaw", sampleRate = Rate },
                },
                ["extra_headers"] = "{}",
            },
        };
        if (_provider != "vobiz")
        {
            await SendTextAsync(_provider == "twilio" ? """{"event":"connected","protocol":"Call","version":"1.0.0"}""" : """{"event":"connected"}""", cancellationToken);
        }
        await SendTextAsync(JsonSerializer.Serialize(start), cancellationToken);
    }

    private async Task PaceAsync(CancellationToken cancellationToken)
    {
        var frame = new short[FrameSamples];
        var encoded = new byte[FrameSamples * 2];
        var sequence = 1;
        var started = _clock.Elapsed;
        for (long n = 0; !_closed; n++)
        {
            var deadline = started + TimeSpan.FromMilliseconds(20 * (n + 1));
            var wait = deadline - _clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }
            bool speaking;
            lock (_gate)
            {
                speaking = _speech.Count > 0;
                for (var i = 0; i < FrameSamples; i++)
                {
                    frame[i] = _speech.TryDequeue(out var s) ? s : (short)0;
                }
                if (speaking && _speech.Count == 0)
                {
                    _callerFinishedAt = _clock.Elapsed;
                    _options.CallerStoppedSpeaking?.Invoke(_lastCallerLine);
                }
            }
            await EchoPlayedMarksAsync(cancellationToken);
            FinishAgentTurn(force: false);
            string payload;
            if (_provider == "exotel")
            {
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(frame.AsSpan()).CopyTo(encoded);
                payload = Convert.ToBase64String(encoded, 0, FrameSamples * 2);
            }
            else
            {
                MuLaw.Encode(frame, encoded);
                payload = Convert.ToBase64String(encoded, 0, FrameSamples);
            }
            sequence++;
            var timestamp = (n * 20).ToString(CultureInfo.InvariantCulture);
            var message = _provider switch
            {
                "twilio" => $$$"""{"event":"media","sequenceNumber":"{{{sequence}}}","media":{"track":"inbound","chunk":"{{{n + 1}}}","timestamp":"{{{timestamp}}}","payload":"{{{payload}}}"},"streamSid":"{{{_streamId}}}"}""",
                "exotel" => $$$"""{"event":"media","sequence_number":{{{sequence}}},"stream_sid":"{{{_streamId}}}","media":{"chunk":{{{n + 1}}},"timestamp":"{{{timestamp}}}","payload":"{{{payload}}}"}}""",
                _ => $$$"""{"event":"media","sequenceNumber":{{{sequence}}},"streamId":"{{{_streamId}}}","media":{"track":"inbound","timestamp":"{{{timestamp}}}","chunk":{{{n + 1}}},"payload":"{{{payload}}}"}}""",
            };
            await SendTextAsync(message, cancellationToken);
            _framesSent++;
        }
    }

    private async Task RunStepAsync(CallerStep step, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case CallerStep.WaitForAgent wait:
                var turnsBefore = _agentTurnsDone;
                await WaitUntilAsync(() => _agentTurnsDone > turnsBefore || _closed, wait.Timeout, cancellationToken);
                break;
            case CallerStep.Say say:
                await SpeakAsync(say.Text, cancellationToken);
                break;
            case CallerStep.BargeIn barge:
                await WaitUntilAsync(() => _agentStartedAt is not null || _closed, TimeSpan.FromSeconds(15), cancellationToken);
                await Task.Delay(barge.After, cancellationToken);
                await SpeakAsync(barge.Text, cancellationToken);
                break;
            case CallerStep.Silence silence:
                await Task.Delay(silence.Duration, cancellationToken);
                break;
            case CallerStep.Dtmf dtmf:
                foreach (var digit in dtmf.Digits)
                {
                    FinishAgentTurn(force: true);
                    _lastCallerLine = $"(pressed {digit})";
                    _callerFinishedAt = _clock.Elapsed;
                    _options.Progress?.Invoke($"caller: presses {digit}");
                    await SendTextAsync(_provider switch
                    {
                        "twilio" => $$$"""{"event":"dtmf","streamSid":"{{{_streamId}}}","sequenceNumber":"0","dtmf":{"track":"inbound_track","digit":"{{{digit}}}"}}""",
                        "exotel" => $$$"""{"event":"dtmf","stream_sid":"{{{_streamId}}}","dtmf":{"duration":"100","digit":"{{{digit}}}"}}""",
                        _ => $$$"""{"event":"dtmf","streamId":"{{{_streamId}}}","dtmf":{"track":"inbound","digit":"{{{digit}}}"}}""",
                    }, cancellationToken);
                    await Task.Delay(150, cancellationToken);
                }
                break;
            case CallerStep.HangUp:
                _closeReason = "caller hung up";
                await SendTextAsync(_provider switch
                {
                    "twilio" => $$$"""{"event":"stop","sequenceNumber":"0","streamSid":"{{{_streamId}}}","stop":{"accountSid":"ACsimulated","callSid":"{{{_providerCallId}}}"}}""",
                    "exotel" => $$$"""{"event":"stop","stream_sid":"{{{_streamId}}}","stop":{"call_sid":"{{{_providerCallId}}}","reason":"callended"}}""",
                    _ => $$$"""{"event":"stop","streamId":"{{{_streamId}}}"}""",
                }, cancellationToken);
                _closed = true;
                await CloseQuietlyAsync();
                break;
        }
    }

    private async Task SpeakAsync(string text, CancellationToken cancellationToken)
    {
        FinishAgentTurn(force: true);
        var samples = PhoneSpeech(text);
        _lastCallerLine = text;
        _options.Progress?.Invoke($"caller: {text}");
        lock (_gate)
        {
            foreach (var sample in samples)
            {
                _speech.Enqueue(sample);
            }
            _callerFinishedAt = null;
        }
        await WaitUntilAsync(() => { lock (_gate) { return _speech.Count == 0; } }, TimeSpan.FromSeconds(samples.Length / (double)Rate + 5), cancellationToken);
    }

    /// <summary>Flite speech at 8 kHz, trimmed, with 200 ms of silence before it (as a phone line would carry it).</summary>
    public static short[] PhoneSpeech(string text)
    {
        using var audio = FliteSynthesizer.Shared.Synthesize(text);
        var narrow = PhoneLine.Narrow(audio.Samples, audio.SampleRate);
        // Flite pads its speech with silence: trim it, so "the caller stopped" is when the voice stops.
        ReadOnlySpan<short> voiced = narrow;
        var first = voiced.IndexOfAnyExceptInRange((short)-300, (short)300);
        var last = voiced.LastIndexOfAnyExceptInRange((short)-300, (short)300);
        voiced = first < 0 ? [] : voiced[first..(last + 1)];
        var lead = Rate / 5;
        var result = new short[lead + voiced.Length];
        voiced.CopyTo(result.AsSpan(lead));
        return result;
    }

    // ------------------------------------------------------------------ what the agent sends

    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        var pcm = new short[64 * 1024];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        _closeReason ??= $"agent closed the stream ({_socket.CloseStatusDescription})";
                        _closed = true;
                        await CloseQuietlyAsync();
                        return;
                    }
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);
                OnAgentMessage(buffer.AsSpan(0, length), pcm);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            _closeReason ??= _closed ? null : $"socket lost: {e.Message}";
            _closed = true;
        }
    }

    private void OnAgentMessage(ReadOnlySpan<byte> message, short[] pcm)
    {
        using var json = JsonDocument.Parse(message.ToArray());
        var root = json.RootElement;
        var kind = root.GetProperty("event").GetString();
        var now = _clock.Elapsed;
        switch (kind)
        {
            case "media" or "playAudio":
                var payload = root.GetProperty("media").GetProperty("payload").GetString()!;
                var bytes = Convert.FromBase64String(payload);
                int samples;
                if (_provider == "exotel")
                {
                    samples = bytes.Length / 2;
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(bytes.AsSpan(0, samples * 2)).CopyTo(pcm);
                }
                else
                {
                    samples = bytes.Length;
                    MuLaw.Decode(bytes, pcm);
                }
                lock (_gate)
                {
                    if (_agentStartedAt is null)
                    {
                        _agentStartedAt = now;
                        _greetingMs ??= (now - _startedAt).TotalMilliseconds; // stream start → first agent audio
                        // A reply's latency; agent speech with no caller turn before it (a re-prompt) has none.
                        _pendingLatency = _callerFinishedAt is { } finished && _agentTurnsDone > 0 ? (now - finished).TotalMilliseconds : null;
                        _callerFinishedAt = null;
                    }
                    _playEnd = (_playEnd > now ? _playEnd : now) + TimeSpan.FromSeconds(samples / (double)Rate);
                    _lastAgentAudio = now;
                    for (var i = 0; i < samples; i++)
                    {
                        _agentTurnAudio.Add(pcm[i]);
                    }
                }
                break;
            case "mark" or "checkpoint":
                var name = kind == "mark" ? root.GetProperty("mark").GetProperty("name").GetString()! : root.GetProperty("name").GetString()!;
                lock (_gate)
                {
                    _pendingMarks.Add((name, _playEnd > now ? _playEnd : now));
                }
                break;
            case "clear" or "clearAudio":
                _clears++;
                lock (_gate)
                {
                    _playEnd = now;
                    _pendingMarks.Clear();
                }
                if (_provider == "vobiz")
                {
                    _ = SendTextAsync($$$"""{"event":"clearedAudio","sequenceNumber":0,"streamId":"{{{_streamId}}}"}""", CancellationToken.None);
                }
                break;
            default:
                break;
        }
    }

    private async Task EchoPlayedMarksAsync(CancellationToken cancellationToken)
    {
        List<string>? played = null;
        lock (_gate)
        {
            var now = _clock.Elapsed;
            for (var i = _pendingMarks.Count - 1; i >= 0; i--)
            {
                if (_pendingMarks[i].At <= now)
                {
                    (played ??= []).Insert(0, _pendingMarks[i].Name);
                    _pendingMarks.RemoveAt(i);
                }
            }
        }
        foreach (var name in played ?? [])
        {
            _marksEchoed++;
            await SendTextAsync(_provider switch
            {
                "twilio" => $$$"""{"event":"mark","sequenceNumber":"0","streamSid":"{{{_streamId}}}","mark":{"name":"{{{name}}}"}}""",
                "exotel" => $$$"""{"event":"mark","stream_sid":"{{{_streamId}}}","mark":{"name":"{{{name}}}"}}""",
                _ => $$$"""{"event":"playedStream","sequenceNumber":0,"streamId":"{{{_streamId}}}","name":"{{{name}}}"}""",
            }, cancellationToken);
        }
    }

    /// <summary>Closes the agent's current turn once it has gone quiet (or at once when forced) and transcribes it.</summary>
    private void FinishAgentTurn(bool force)
    {
        short[] audio;
        string caller;
        double? latency;
        lock (_gate)
        {
            if (_agentTurnAudio.Count == 0 || _lastAgentAudio is not { } last
                || (!force && _clock.Elapsed - (_playEnd > last ? _playEnd : last) < _options.AgentQuiet))
            {
                return;
            }
            audio = [.. _agentTurnAudio];
            _agentTurnAudio.Clear();
            _agentStartedAt = null;
            caller = _lastCallerLine;
            latency = _pendingLatency;
            _pendingLatency = null;
            _agentTurnsDone++;
        }
        var seconds = audio.Length / (double)Rate;
        _transcriptions.Add(Task.Run(async () =>
        {
            var heard = await TranscribeAsync(audio);
            _options.Progress?.Invoke($"agent: {heard} ({seconds:0.0} s of audio{(latency is { } l ? $", {l:0} ms after the caller stopped" : "")})");
            return new SimulatedTurn(caller, heard, seconds, latency);
        }));
    }

    private async Task<string> TranscribeAsync(short[] audio)
    {
        if (_recognizers is null)
        {
            return "(not transcribed)";
        }
        using var recognizer = _recognizers.Rent();
        recognizer.ExpectPhrases(null);
        var wide = PhoneLine.Resample(audio, Rate, 16000);
        recognizer.StartUtterance();
        if (wide.Length > 0)
        {
            recognizer.Feed(wide);
        }
        var text = await recognizer.FinishUtteranceAsync();
        return text.Length == 0 ? "(nothing recognized)" : text;
    }

    // ------------------------------------------------------------------ plumbing

    private async Task SendTextAsync(string text, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            }
        }
        catch (WebSocketException)
        {
            _closed = true;
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var until = _clock.Elapsed + timeout;
        while (!condition() && _clock.Elapsed < until)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task CloseQuietlyAsync()
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseQuietlyAsync();
        _socket.Dispose();
        _sendGate.Dispose();
    }
}
