using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VoiceStudio.Tests.Infrastructure;

/// <summary>
/// The real app, started the way the README and the container start it: `dotnet VoiceStudio.Web.dll [command]`,
/// configured by environment variables, listening on a free loopback port.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private AppProcess(Process process, Uri baseUri)
    {
        _process = process;
        BaseUri = baseUri;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (_stdout) { _stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseUri { get; }
    public int Pid => _process.Id;
    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>The web project's own build output (same configuration as the tests).</summary>
    public static string WebDirectory { get; } = AppContext.BaseDirectory.Replace(
        $"{Path.DirectorySeparatorChar}VoiceStudio.Tests{Path.DirectorySeparatorChar}",
        $"{Path.DirectorySeparatorChar}VoiceStudio.Web{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    public static AppProcess Start(IDictionary<string, string?> environment, params string[] args)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = WebDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(WebDirectory, "VoiceStudio.Web.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["REDIS_URL"] = TestEnvironment.RedisUrl;
        start.Environment["REDIS_KEY_PREFIX"] = TestEnvironment.NewRedisPrefix();
        start.Environment["RECORDINGS_DIR"] = Path.Combine(Path.GetTempPath(), "vs-test-recordings", Guid.NewGuid().ToString("N"));
        start.Environment["INSTANCE_ID"] = $"test-{Guid.NewGuid():N}";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var baseUri = new Uri((start.Environment["ASPNETCORE_URLS"] ?? "").TrimEnd('/') + "/");
        return new AppProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"), baseUri);
    }

    /// <summary>Runs a command (migrate, seed, or a start that should fail) to its end.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IDictionary<string, string?> environment, params string[] args)
    {
        await using var app = Start(environment, args);
        var exit = await app.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, app.Stdout, app.Stderr);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the app did not exit within {timeout}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }
        _process.WaitForExit(); // flush the output readers
        return _process.ExitCode;
    }

    /// <summary>Waits until /health/live answers (or the process exits, which fails with its output).</summary>
    public async Task WaitUntilLiveAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the app exited with {_process.ExitCode}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }
            try
            {
                if ((await http.GetAsync("health/live")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the app was not live in time. stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>Ends the process at once, as a crash would (no clean shutdown).</summary>
    public void Crash()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Crash();
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
