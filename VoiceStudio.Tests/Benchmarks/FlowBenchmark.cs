using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceStudio.Media.Audio.Vad;
using VoiceStudio.Media.Calls;
using VoiceStudio.Media.Flows;
using VoiceStudio.Media.Llm;
using VoiceStudio.Media.Speech;
using VoiceStudio.Media.Speech.Flite;
using VoiceStudio.Media.Telephony.Browser;
using VoiceStudio.Tests.Flows;
using VoiceStudio.Tests.Media;

namespace VoiceStudio.Tests.Benchmarks;

/// <summary>
/// `bench flow`: the flow runtime's own cost. (1) Decision time per turn for deterministic nodes: a caller's turn in,
/// every output of the turn out (fuzzy intent match over the menu's phrases, weekday and name captures, a condition,
/// templated says), no tools, timed turn by turn. (2) With a model: a call session (browser socket protocol, audio
/// mode, real Flite) on a freeform agent whose model is the local Chat Completions server; for each typed turn the
/// engine's own latency parts give the time from the end of the model's first sentence to its first TTS audio.
/// </summary>
public static class FlowBenchmark
{
    private static StoredNode Node(string key, string type, string config, bool initial = false) => new() { Key = key, Type = type, Config = config, IsInitial = initial };

    private static readonly StoredNode[] Flow =
    [
        Node("menu", "ask", """
            {"prompt":"Would you like to book an appointment, or hear our opening hours?","intents":[
              {"name":"book","phrases":["book an appointment","appointment","book","make a booking","schedule a visit"],"dtmf":"1","next_node_key":"day"},
              {"name":"hours","phrases":["opening hours","hours","when are you open"],"keywords":["open"],"dtmf":"2","next_node_key":"hours"},
              {"name":"cancel","phrases":["cancel my appointment","cancel"],"dtmf":"3","next_node_key":"hours"}],
             "no_match":{"reprompt":"Sorry, say book or hours.","max":100000},"fallback_node_key":"hours"}
            """, initial: true),
        Node("hours", "say", """{"text":"We are open nine to five, {{caller_name}}.","next_node_key":"menu"}"""),
        Node("day", "ask", """{"prompt":"Which day?","captures":[{"variable":"day","pattern":"weekday","phrases":["monday","tuesday","wednesday","thursday","friday"]}],"next_node_key":"weekend_check","no_match":{"max":100000},"fallback_node_key":"menu"}"""),
        Node("weekend_check", "condition", """{"branches":[{"match":"any","rules":[{"variable":"day","operator":"equals","value":"saturday"},{"variable":"day","operator":"equals","value":"sunday"}],"next_node_key":"closed"}],"else_node_key":"name"}"""),
        Node("closed", "say", """{"text":"Sorry, we are closed on {{day}}.","next_node_key":"menu"}"""),
        Node("name", "ask", """{"prompt":"And your first name?","captures":[{"variable":"caller_name","pattern":"name","phrases":["alice","anna","bob","carol","daniel","david","emma","frank","george","grace","henry","james","john","kate","laura","linda","lisa","mark","mary","michael"]}],"next_node_key":"confirm","no_match":{"max":100000},"fallback_node_key":"menu"}"""),
        Node("confirm", "say", """{"text":"Thank you {{caller_name}}, you are booked for {{day}} at the {{practice}}.","next_node_key":"menu"}"""),
    ];

    private static readonly string[] Turns = ["I would like to book an appointment please", "tuesday please", "my name is alice", "what are your opening hours", "umm something else entirely", "book", "on friday", "this is grace"];

    public static async Task<string> RunAsync(int turns, int replies, string vadModel)
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"flow benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores");
        report.AppendLine(await DecisionsAsync(turns));
        report.AppendLine(await FirstSentenceToAudioAsync(replies, vadModel));
        return report.ToString();
    }

    private static async Task<string> DecisionsAsync(int turns)
    {
        var agent = new AgentDefinition
        {
            Name = "bench",
            Variables = new Dictionary<string, string> { ["practice"] = "Riverside practice" },
            Flow = FlowJson.Parse(Flow),
        };
        var conversation = new FlowConversation(agent, new HttpToolInvoker(new HttpClient()));
        conversation.Bind(new CallContext { CallId = "bench", Provider = "twilio", From = "+15550001111" });
        await foreach (var _ in conversation.StartAsync(CancellationToken.None))
        {
        }
        var times = new double[turns];
        var outputs = 0L;
        for (var warm = 0; warm < 2000; warm++)
        {
            await foreach (var _ in conversation.UserSpokeAsync(Turns[warm % Turns.Length], CancellationToken.None))
            {
            }
        }
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < turns; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await foreach (var _ in conversation.UserSpokeAsync(Turns[i % Turns.Length], CancellationToken.None))
            {
                outputs++;
            }
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        var allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)turns;
        Array.Sort(times);
        return string.Create(CultureInfo.InvariantCulture,
            $"""
              deterministic decision per turn ({turns:N0} turns over {Flow.Length} nodes: intents, captures, condition, says; {outputs / (double)turns:0.0} outputs a turn):
                p50 {Percentile(times, 50):0.000} ms, p99 {Percentile(times, 99):0.000} ms, max {times[^1]:0.000} ms; {allocated / 1024:0.0} KB allocated per turn
            """);
    }

    private static async Task<string> FirstSentenceToAudioAsync(int replies, string vadModel)
    {
        await using var llm = new LlmServer();
        await llm.InitializeAsync();
        string[] openings =
        [
            "Of course, I can help with that.", "Tuesday at three works well for us.", "Let me see what we have.", "Sure.",
            "Thank you, I have noted your name and number for the booking.", "We are open from nine until five on weekdays.",
        ];
        for (var i = 0; i < replies + 1; i++)
        {
            llm.Script(LlmServer.Text(openings[i % openings.Length] + " ", "Is there anything else I can do for you today?"));
        }
        var agent = new AgentDefinition
        {
            Name = "bench-llm",
            Greeting = "Hello.",
            Llm = new LlmSettings { BaseUrl = llm.V1, ApiKey = LlmServer.ApiKey, Model = "bench" },
        };
        using var vad = new VoiceActivityFactory(vadModel);
        var transport = new MemoryTransport();
        var observer = new RecordingObserver();
        var conversation = new FlowConversation(agent, new HttpToolInvoker(new HttpClient()));
        using var session = new CallSession(new CallSessionOptions { UserIdleTimeout = TimeSpan.FromMinutes(10) }, new BrowserSerializer("bench"), transport, conversation,
            new NoAudioRecognizer(), new FliteTextToSpeech(), vad, observer, _ => Path.Combine(Path.GetTempPath(), $"vs-bench-{Guid.NewGuid():N}.wav"), NullLogger.Instance);
        var run = Task.Run(() => session.RunAsync(CancellationToken.None));
        void Send(string json) => transport.ToSession.Writer.TryWrite(Encoding.UTF8.GetBytes(json));
        Send("""{"event":"start"}""");
        var drain = Task.Run(async () =>
        {
            await foreach (var _ in transport.FromSession.Reader.ReadAllAsync())
            {
            }
        });
        for (var i = 0; i <= replies; i++)
        {
            var lines = observer.AgentLines.Count;
            Send($$"""{"event":"text","text":"turn {{i}}"}""");
            var until = DateTime.UtcNow.AddSeconds(30);
            while (observer.AgentLines.Count < lines + 2 && DateTime.UtcNow < until)
            {
                await Task.Delay(5);
            }
            await Task.Delay(200);
        }
        Send("""{"event":"stop"}""");
        await run.WaitAsync(TimeSpan.FromSeconds(30));
        transport.FromSession.Writer.TryComplete();
        var measured = observer.Turns.Skip(1).ToList(); // the first turn warms the model client and Flite
        var toAudio = measured.Select(t => t.FirstTtsAudioMs - t.FirstReplyTextMs).Order().ToArray();
        var firstSentence = measured.Select(t => t.FirstReplyTextMs).Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture,
            $"""
              model reply, end of first sentence -> first TTS audio (Flite, {measured.Count} turns, first sentences of 1-13 words, local model server):
                p50 {Percentile(toAudio, 50):0.0} ms, p95 {Percentile(toAudio, 95):0.0} ms, max {toAudio[^1]:0.0} ms
                (turn start -> first sentence complete, local model streaming: p50 {Percentile(firstSentence, 50):0.0} ms)
            """);
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
