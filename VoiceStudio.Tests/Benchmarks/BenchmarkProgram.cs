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
        if (args is not ["bench", "sessions", .. var options])
        {
            Console.Error.WriteLine("usage: dotnet VoiceStudio.Tests.dll bench sessions [--calls N] [--seconds S] [--embedded] [--vad PATH]");
            return 2;
        }
        var calls = int.Parse(Option(options, "--calls") ?? "50", CultureInfo.InvariantCulture);
        var seconds = double.Parse(Option(options, "--seconds") ?? "30", CultureInfo.InvariantCulture);
        var vad = Option(options, "--vad") ?? Environment.GetEnvironmentVariable("VAD_MODEL_PATH") ?? ".local/models/silero_vad_v5.onnx";
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
