using StackExchange.Redis;
using VoiceStudio.Data;
using VoiceStudio.Data.Calls;
using VoiceStudio.Web.Features.Instances;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Telephony;

/// <summary>
/// Each provider's max_concurrent, enforced across every instance through Redis (SPEC §4, issue 5). A provider's
/// slots are one hash, <c>slots:{provider}</c>: a field per held slot, its value the instance holding it. Taking a
/// slot is one Lua script that first drops the slots of instances whose heartbeat has expired (a crashed instance's
/// calls free their slots once its heartbeat is gone), then counts, then takes one if the count is under the limit.
/// Giving a slot back deletes its field, so releasing twice is harmless and the count can never go below zero.
/// </summary>
public sealed class ConcurrencySlots(IConnectionMultiplexer redis, RedisKeys keys, InstanceIdentity instance)
{
    // Counts the slots of live instances, dropping those of instances whose heartbeat is gone (ARGV[1]: heartbeat key prefix).
    private const string CountLive = """
        local entries = redis.call('HGETALL', KEYS[1])
        local alive = {}
        local held = 0
        for i = 1, #entries, 2 do
          local owner = entries[i + 1]
          local ok = alive[owner]
          if ok == nil then
            ok = redis.call('EXISTS', ARGV[1] .. owner) == 1
            alive[owner] = ok
          end
          if ok then held = held + 1 else redis.call('HDEL', KEYS[1], entries[i]) end
        end
        """;

    // ARGV[2]: the holder, ARGV[3]: this instance, ARGV[4]: the limit. Answers the slots held after, or -1 when full.
    private const string AcquireScript = CountLive + "\n" + """
        if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return held end
        if held >= tonumber(ARGV[4]) then return -1 end
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        return held + 1
        """;

    private const string CountScript = CountLive + "\nreturn held";

    /// <summary>Takes a slot for <paramref name="holder"/> (a socket or call id); false when the provider is at its limit.</summary>
    public async Task<bool> TryAcquireAsync(TelephonyProvider provider, string holder, int limit) =>
        (long)await redis.GetDatabase().ScriptEvaluateAsync(AcquireScript, [Key(provider)],
            [HeartbeatPrefix, holder, instance.Id, limit]) > 0;

    /// <summary>Gives the slot back; true only the first time (a slot is released exactly once however the call ends).</summary>
    public Task<bool> ReleaseAsync(TelephonyProvider provider, string holder) => redis.GetDatabase().HashDeleteAsync(Key(provider), holder);

    /// <summary>The slots held now by live instances (a dead instance's slots are dropped on the way).</summary>
    public async Task<int> CountAsync(TelephonyProvider provider) =>
        (int)(long)await redis.GetDatabase().ScriptEvaluateAsync(CountScript, [Key(provider)], [HeartbeatPrefix]);

    /// <summary>
    /// Drops every slot this instance id holds: at start-up they belong to a previous process of the instance, whose
    /// calls are gone (a restart within the heartbeat's lifetime would otherwise keep them).
    /// </summary>
    public async Task<int> ReleaseAllOfThisInstanceAsync()
    {
        var db = redis.GetDatabase();
        var released = 0;
        foreach (var provider in new[] { TelephonyProvider.Twilio, TelephonyProvider.Exotel, TelephonyProvider.Vobiz })
        {
            foreach (var entry in await db.HashGetAllAsync(Key(provider)))
            {
                if (entry.Value == instance.Id && await db.HashDeleteAsync(Key(provider), entry.Name))
                {
                    released++;
                }
            }
        }
        return released;
    }

    private RedisKey Key(TelephonyProvider provider) => keys.ConcurrencySlots(EnumNames.Of(provider));

    private string HeartbeatPrefix => keys.InstanceHeartbeat("").ToString();
}
