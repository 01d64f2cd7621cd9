using Microsoft.Extensions.Options;
using VoiceStudio.Data.Calls;
using VoiceStudio.Tests.Infrastructure;
using VoiceStudio.Web.Configuration;
using VoiceStudio.Web.Features.Instances;
using VoiceStudio.Web.Features.Telephony;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Tests.Telephony;

/// <summary>The provider concurrency limit on the real Redis, shared by several instances, through crashes.</summary>
public sealed class ConcurrencySlotTests
{
    private sealed class Instance
    {
        public Instance(string prefix, string id)
        {
            var settings = Options.Create(new VoiceStudioSettings { RedisKeyPrefix = prefix, InstanceId = id });
            Keys = new RedisKeys(settings);
            Id = id;
            Slots = new ConcurrencySlots(TestEnvironment.Redis, Keys, new InstanceIdentity(settings, TimeProvider.System));
        }

        public string Id { get; }
        public RedisKeys Keys { get; }
        public ConcurrencySlots Slots { get; }
        public List<string> Held { get; } = [];

        /// <summary>Starts (or restarts) the instance as the app does: heartbeat claimed, then its previous process's slots dropped.</summary>
        public async Task StartAsync()
        {
            await TestEnvironment.Redis.GetDatabase().StringSetAsync(Keys.InstanceHeartbeat(Id), "alive", TimeSpan.FromMinutes(5));
            await Slots.ReleaseAllOfThisInstanceAsync();
        }

        public async Task CrashAsync()
        {
            Held.Clear(); // its calls are gone with it
            await TestEnvironment.Redis.GetDatabase().KeyDeleteAsync(Keys.InstanceHeartbeat(Id)); // as when the heartbeat expires
        }
    }

    [Fact]
    public async Task At_most_the_limit_is_held_across_instances_and_a_dead_instance_frees_its_slots()
    {
        var prefix = TestEnvironment.NewRedisPrefix();
        var a = new Instance(prefix, "a");
        var b = new Instance(prefix, "b");
        await a.StartAsync();
        await b.StartAsync();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => (i % 2 == 0 ? a : b).Slots.TryAcquireAsync(TelephonyProvider.Twilio, $"call-{i}", 3)));
        Assert.Equal(3, attempts.Count(ok => ok));
        Assert.Equal(3, await a.Slots.CountAsync(TelephonyProvider.Twilio));
        Assert.True(await b.Slots.TryAcquireAsync(TelephonyProvider.Vobiz, "other-provider", 3)); // limits are per provider

        var heldByB = (await TestEnvironment.Redis.GetDatabase().HashGetAllAsync(b.Keys.ConcurrencySlots("twilio"))).Count(e => e.Value == "b");
        await b.CrashAsync();
        Assert.Equal(3 - heldByB, await a.Slots.CountAsync(TelephonyProvider.Twilio));
        Assert.True(await a.Slots.TryAcquireAsync(TelephonyProvider.Twilio, "after-crash", 3));

        // A restarted instance drops what its previous process held.
        await b.StartAsync();
        Assert.True(await b.Slots.TryAcquireAsync(TelephonyProvider.Exotel, "before-restart", 3));
        Assert.Equal(1, await b.Slots.ReleaseAllOfThisInstanceAsync());
        Assert.Equal(0, await b.Slots.ReleaseAllOfThisInstanceAsync());
        Assert.Equal(0, await b.Slots.CountAsync(TelephonyProvider.Exotel));
    }

    [Fact]
    public async Task A_thousand_random_connect_disconnect_and_crash_sequences_never_leak_or_go_negative()
    {
        const int Limit = 3;
        var prefix = TestEnvironment.NewRedisPrefix();
        var instances = Enumerable.Range(0, 3).Select(i => new Instance(prefix, $"i{i}")).ToArray();
        var alive = new bool[instances.Length];
        var random = new Random(20261124);
        var next = 0;
        for (var sequence = 0; sequence < 1000; sequence++)
        {
            for (var step = 0; step < 10; step++)
            {
                var index = random.Next(instances.Length);
                var instance = instances[index];
                switch (random.Next(10))
                {
                    case < 5: // a socket connects
                        if (!alive[index])
                        {
                            await instance.StartAsync();
                            alive[index] = true;
                        }
                        var live = instances.Sum(i => i.Held.Count);
                        var holder = $"h{next++}";
                        var got = await instance.Slots.TryAcquireAsync(TelephonyProvider.Twilio, holder, Limit);
                        Assert.Equal(live < Limit, got);
                        if (got)
                        {
                            instance.Held.Add(holder);
                        }
                        break;
                    case < 9: // a call ends (sometimes reported twice)
                        if (instance.Held.Count > 0)
                        {
                            var ending = instance.Held[random.Next(instance.Held.Count)];
                            instance.Held.Remove(ending);
                            Assert.True(await instance.Slots.ReleaseAsync(TelephonyProvider.Twilio, ending));
                            Assert.False(await instance.Slots.ReleaseAsync(TelephonyProvider.Twilio, ending));
                        }
                        break;
                    default: // the instance dies
                        await instance.CrashAsync();
                        alive[index] = false;
                        break;
                }
                var count = await instances[0].Slots.CountAsync(TelephonyProvider.Twilio);
                Assert.InRange(count, 0, Limit);
                Assert.Equal(instances.Sum(i => i.Held.Count), count);
            }
        }
    }
}
