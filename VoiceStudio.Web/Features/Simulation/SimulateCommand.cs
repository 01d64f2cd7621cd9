using System.Globalization;
using System.Text.Json;
using VoiceStudio.Media.Simulation;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.PocketSphinx;

namespace VoiceStudio.Web.Features.Simulation;

/// <summary>
/// <c>simulate</c>: calls a running server the way a telephony provider would (inbound webhook, then the media
/// socket) and plays a caller's script; with <c>--calls N</c> it is the load generator (N callers at once).
/// </summary>
public static class SimulateCommand
{
    public const string Usage = """
        simulate [--url URL] [--provider twilio|exotel|vobiz] [--agent NAME] [--script "STEPS" | --script-file FILE]
                 [--calls N] [--no-transcribe] [--json FILE] [--secret AUTH_TOKEN_OR_EXOTEL_SECRET]
          --secret signs the webhook as the provider would (default: TWILIO_AUTH_TOKEN, VOBIZ_AUTH_TOKEN or EXOTEL_WEBHOOK_SECRET)
          STEPS: wait [s]; say TEXT; barge [ms] TEXT; silence S; dtmf DIGITS; hangup  (';' or newline between steps)
          default: --url http://127.0.0.1:5080 --provider twilio --agent demo --script "
        """ + CallerScript.DemoBooking + "\"";

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var url = new Uri("http://127.0.0.1:5080");
        var provider = "twilio";
        var agent = "demo";
        var script = CallerScript.DemoBooking;
        var calls = 1;
        var transcribe = true;
        string? jsonFile = null;
        string? secret = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url":
                    url = Uri.TryCreate(Value(), UriKind.Absolute, out var parsed) ? parsed : throw new FormatException("--url must be an absolute http(s) URL");
                    break;
                case "--provider":
                    provider = Value();
                    if (provider is not ("twilio" or "exotel" or "vobiz"))
                    {
                        throw new FormatException("--provider must be twilio, exotel or vobiz");
                    }
                    break;
                case "--agent":
                    agent = Value();
                    break;
                case "--script":
                    script = Value();
                    break;
                case "--script-file":
                    script = await File.ReadAllTextAsync(Value());
                    break;
                case "--calls":
                    calls = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1000 ? n : throw new FormatException("--calls must be 1 to 1000");
                    break;
                case "--no-transcribe":
                    transcribe = false;
                    break;
                case "--json":
                    jsonFile = Value();
                    break;
                case "--secret":
                    secret = Value();
                    break;
                default:
                    throw new FormatException($"unknown option '{args[i]}'");
            }
        }
        var steps = CallerScript.Parse(script);
        using var recognizers = transcribe ? new PocketSphinxPool(PocketSphinxModel.EnglishUs) : null;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        // Signs the webhook as the provider would, with the same credential the server checks it against.
        secret ??= Environment.GetEnvironmentVariable(provider == "exotel" ? "EXOTEL_WEBHOOK_SECRET" : $"{provider.ToUpperInvariant()}_AUTH_TOKEN") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : null;
        var options = new SimulatedCallerOptions
        {
            Transcribe = transcribe,
            WebhookSecret = secret,
            Progress = calls == 1 ? line => output.WriteLine($"  {line}") : null,
        };
        await output.WriteLineAsync($"Calling agent '{agent}' at {url} as {provider}, {calls} call(s)…");
        var started = DateTimeOffset.UtcNow;
        var results = await Task.WhenAll(Enumerable.Range(0, calls).Select(async i =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(i * 50)); // callers arrive over a moment, not in one instant
            try
            {
                return (Result: (SimulatedCallResult?)await SimulatedCaller.RunAsync(url, provider, agent, steps, options with { From = $"+1555{i:0000000}" }, recognizers, http, CancellationToken.None), Error: (string?)null);
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or System.Net.WebSockets.WebSocketException or JsonException or System.Xml.XmlException)
            {
                return (Result: (SimulatedCallResult?)null, Error: (string?)e.Message);
            }
        }));
        var ok = results.Where(r => r.Result is { Turns.Count: > 0 }).Select(r => r.Result!).ToList();
        foreach (var error in results.Where(r => r.Error is not null).Select(r => r.Error).Distinct())
        {
            await output.WriteLineAsync($"failed: {error}");
        }
        if (calls == 1 && ok.Count == 1)
        {
            var call = ok[0];
            await output.WriteLineAsync($"Call {call.CallId} ended: {call.Ended}. Greeting {call.GreetingMs:0} ms; {call.MediaFramesSent} frames sent, {call.MarksEchoed} marks played, {call.ClearsReceived} clears.");
            foreach (var (turn, index) in call.Turns.Select((t, i) => (t, i + 1)))
            {
                await output.WriteLineAsync($"turn {index}: caller \"{turn.Caller}\" → agent \"{turn.Agent}\" ({turn.AgentAudioSeconds:0.0} s{(turn.LatencyMs is { } l ? $", {l:0} ms on the wire" : "")})");
            }
        }
        var latencies = ok.SelectMany(c => c.Turns).Select(t => t.LatencyMs).OfType<double>().Order().ToList();
        var greetings = ok.Select(c => c.GreetingMs).OfType<double>().Order().ToList();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{ok.Count} of {calls} calls held a conversation in {(DateTimeOffset.UtcNow - started).TotalSeconds:0.0} s; reply latency on the wire (includes the VAD stop time) p50 {P(latencies, 0.5):0} ms, p95 {P(latencies, 0.95):0} ms; greeting p50 {P(greetings, 0.5):0} ms, p95 {P(greetings, 0.95):0} ms"));
        if (jsonFile is not null)
        {
            await File.WriteAllTextAsync(jsonFile, JsonSerializer.Serialize(results.Select(r => new { r.Result, r.Error }), Indented));
        }
        return ok.Count == calls ? 0 : 1;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static double P(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
