using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VoiceStudio.Web.Configuration;

namespace VoiceStudio.Web.Infrastructure;

/// <summary>Every Redis key and channel the app uses, under REDIS_KEY_PREFIX.</summary>
public sealed class RedisKeys(IOptions<VoiceStudioSettings> settings)
{
    private readonly string _prefix = settings.Value.RedisKeyPrefix;

    /// <summary>String, value = the owning process, with a TTL: present while the instance is alive.</summary>
    public RedisKey InstanceHeartbeat(string instanceId) => $"{_prefix}instance:{instanceId}";

    /// <summary>Set of the call ids an instance is running right now.</summary>
    public RedisKey InstanceCalls(string instanceId) => $"{_prefix}instance:{instanceId}:calls";

    /// <summary>Pub/sub channel of one call's live events.</summary>
    public RedisChannel CallChannel(Guid callId) => RedisChannel.Literal($"{_prefix}call:{callId}");

    /// <summary>Pub/sub channel of every call's live events (the live monitor).</summary>
    public RedisChannel AllCallsChannel => RedisChannel.Literal($"{_prefix}calls");

    /// <summary>Hash of a provider's held concurrency slots: holder → instance id.</summary>
    public RedisKey ConcurrencySlots(string provider) => $"{_prefix}slots:{provider}";

    /// <summary>Lock held while a scheduled job runs anywhere.</summary>
    public RedisKey JobLock(string job) => $"{_prefix}lock:job:{job}";
}
