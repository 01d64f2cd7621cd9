using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VoiceStudio.Data.Calls;
using VoiceStudio.Tests.Infrastructure;

namespace VoiceStudio.Tests.App;

/// <summary>
/// The provider limit across instances: two app processes share the database (and so the Data Protection keys
/// that sign stream tokens) and Redis; with Exotel limited to 3, five simultaneous sockets get exactly three
/// through; killing an instance frees its slots once its heartbeat expires.
/// </summary>
[Collection(RunningAppGroup.Name)]
public sealed class ConcurrencyLimitTests(AppFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private const int HeartbeatTtlSeconds = 3;

    [Fact]
    public async Task Five_sockets_on_two_instances_with_a_limit_of_three_and_a_crash_frees_its_slots()
    {
        var prefix = TestEnvironment.NewRedisPrefix();
        AppProcess Instance(string id) => AppProcess.Start(new Dictionary<string, string?>(fixture.Environment)
        {
            ["INSTANCE_ID"] = $"{id}-{Guid.NewGuid():N}"[..12],
            ["REDIS_KEY_PREFIX"] = prefix,
            ["INSTANCE_HEARTBEAT_TTL_SECONDS"] = HeartbeatTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["STT_WARM_DECODERS"] = "0",
        });
        await SetExotelLimitAsync(3);
        var sockets = new List<ClientWebSocket>();
        try
        {
            await using var a = Instance("a");
            await using var b = Instance("b");
            await Task.WhenAll(a.WaitUntilLiveAsync(), b.WaitUntilLiveAsync());

            var urls = new List<string>();
            for (var i = 0; i < 7; i++)
            {
                urls.Add(await StreamQueryAsync(a));
            }
            var attempts = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => ConnectAsync(i % 2 == 0 ? a : b, urls[i])));
            Assert.Equal(3, attempts.Count(s => s.Socket is not null));
            Assert.All(attempts.Where(s => s.Socket is null), s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s.Status));
            sockets.AddRange(attempts.Select(s => s.Socket).OfType<ClientWebSocket>());

            // Make sure the instance about to die holds a slot.
            var onB = attempts.Where((s, i) => s.Socket is not null && i % 2 == 1).ToList();
            if (onB.Count == 0)
            {
                var onA = attempts.First(s => s.Socket is not null).Socket!;
                await onA.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                ClientWebSocket? taken = null;
                await WaitForAsync(async () => (taken = (await ConnectAsync(b, urls[5])).Socket) is not null);
                sockets.Add(taken!);
            }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ConnectAsync(a, urls[6])).Status); // still full

            b.Crash();
            var clock = Stopwatch.StartNew();
            ClientWebSocket? admitted = null;
            while (admitted is null && clock.Elapsed < TimeSpan.FromSeconds(HeartbeatTtlSeconds * 4))
            {
                admitted = (await ConnectAsync(a, urls[6])).Socket;
                await Task.Delay(200);
            }
            Assert.NotNull(admitted);
            sockets.Add(admitted!);
            output.WriteLine($"the crashed instance's slot was free {clock.ElapsedMilliseconds} ms after the kill (heartbeat TTL {HeartbeatTtlSeconds} s)");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Abort();
                socket.Dispose();
            }
            await SetExotelLimitAsync(10);
        }
    }

    private async Task SetExotelLimitAsync(int limit)
    {
        await using var db = fixture.Database.NewContext();
        await db.TelephonyProviders.Where(p => p.Provider == TelephonyProvider.Exotel).ExecuteUpdateAsync(p => p.SetProperty(x => x.MaxConcurrent, limit));
    }

    /// <summary>A genuine Exotel webhook (the account's URL secret) answers the socket URL with its call id and token.</summary>
    private static async Task<string> StreamQueryAsync(AppProcess app)
    {
        using var http = new HttpClient();
        var response = await http.PostAsync(new Uri(app.BaseUri, $"telephony/exotel/inbound/demo?secret={AppFixture.WebhookSecret("exotel")}"),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["CallSid"] = Guid.NewGuid().ToString("N"), ["CallFrom"] = "+15550001111" }));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return new Uri(json.RootElement.GetProperty("url").GetString()!).Query;
    }

    private static async Task<(ClientWebSocket? Socket, HttpStatusCode? Status)> ConnectAsync(AppProcess app, string query)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(new Uri(app.BaseUri.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + "ws/exotel/demo" + query), CancellationToken.None);
            return (socket, HttpStatusCode.SwitchingProtocols);
        }
        catch (WebSocketException)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            return (null, status);
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "timed out");
            await Task.Delay(100);
        }
    }
}
