using System.Globalization;

namespace VoiceStudio.Tests.Benchmarks;

/// <summary>
/// `dotnet VoiceStudio.Tests.dll bench sessions [--calls N] [--seconds S] [--embedded] [--vad PATH]`: runs a benchmark
/// and prints its figures (and appends them to .local/bench/results.txt). Not part of the test run.
/// </summary>
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        var vadDefault = Environment.GetEnvironmentVariable("VAD_MODEL_PATH") ?? ".local/models/silero_vad_v5.onnx";
        if (args is ["bench", "overhead", .. var overhead])
        {
            var url = new Uri(Option(overhead, "--url") ?? "http://127.0.0.1:5080");
            var pid = int.Parse(Option(overhead, "--pid") ?? throw new ArgumentException("--pid: the server's process id"), CultureInfo.InvariantCulture);
            var database = Option(overhead, "--database-url") ?? Environment.GetEnvironmentVariable("DATABASE_URL")
                ?? "postgres://voicestudio:voicestudio@127.0.0.1:5433/voicestudio";
            Console.WriteLine(await OverheadBenchmark.RunAsync(url, pid, int.Parse(Option(overhead, "--calls") ?? "10", CultureInfo.InvariantCulture), database,
                Option(overhead, "--vad") ?? vadDefault));
            return 0;
        }
        if (args is ["bench", "designer", .. var designer])
        {
            Console.WriteLine(await DesignerBenchmark.RunAsync(new Uri(Option(designer, "--url") ?? "http://127.0.0.1:5080/"),
                Option(designer, "--user") ?? "admin", Option(designer, "--password") ?? Environment.GetEnvironmentVariable("ADMIN_PASSWORD") ?? "local-admin-pass",
                int.Parse(Option(designer, "--nodes") ?? "200", CultureInfo.InvariantCulture), Option(designer, "--chromium") ?? "/usr/bin/chromium"));
            return 0;
        }
        if (args is ["bench", "speech", .. var speech])
        {
            Console.WriteLine(await SpeechAdapterBenchmark.RunAsync(int.Parse(Option(speech, "--runs") ?? "200", CultureInfo.InvariantCulture)));
            return 0;
        }
        if (args is ["bench", "flow", .. var flow])
        {
            Console.WriteLine(await FlowBenchmark.RunAsync(int.Parse(Option(flow, "--turns") ?? "20000", CultureInfo.InvariantCulture),
                int.Parse(Option(flow, "--replies") ?? "60", CultureInfo.InvariantCulture), Option(flow, "--vad") ?? vadDefault));
            return 0;
        }
        if (args is not ["bench", "sessions", .. var options])
        {
            Console.Error.WriteLine("usage: dotnet VoiceStudio.Tests.dll bench sessions [--calls N] [--seconds S] [--embedded] [--vad PATH]\n"
                + "       dotnet VoiceStudio.Tests.dll bench flow [--turns N] [--replies N] [--vad PATH]\n"
                + "       dotnet VoiceStudio.Tests.dll bench speech [--runs N]\n"
                + "       dotnet VoiceStudio.Tests.dll bench designer [--url URL] [--user U] [--password P] [--nodes N] [--chromium PATH]\n"
                + "       dotnet VoiceStudio.Tests.dll bench overhead --pid SERVER_PID [--url URL] [--calls N] [--database-url URL] [--vad PATH]");
            return 2;
        }
        var calls = int.Parse(Option(options, "--calls") ?? "50", CultureInfo.InvariantCulture);
        var seconds = double.Parse(Option(options, "--seconds") ?? "30", CultureInfo.InvariantCulture);
        var vad = Option(options, "--vad") ?? vadDefault;
        var report = await SessionBenchmark.RunAsync(calls, TimeSpan.FromSeconds(seconds), options.Contains("--embedded"), vad);
        Console.WriteLine(report);
        return 0;
    }

    private static string? Option(string[] options, string name)
    {
        var i = Array.IndexOf(options, name);
        return i >= 0 && i + 1 < options.Length ? options[i + 1] : null;
    }
}
