using StackExchange.Redis;
using VoiceStudio.Web.Infrastructure;

namespace VoiceStudio.Web.Features.Instances;

/// <summary>
/// The calls each instance is running right now (a Redis set per instance). The call engine adds a call when its
/// media socket is accepted and removes it when the call is finalized; the stale-call job leaves these alone.
/// </summary>
public sealed class ActiveCalls(IConnectionMultiplexer redis, RedisKeys keys, InstanceIdentity identity)
{
    public Task AddAsync(Guid callId) => redis.GetDatabase().SetAddAsync(keys.InstanceCalls(identity.Id), callId.ToString());

    public Task RemoveAsync(Guid callId) => redis.GetDatabase().SetRemoveAsync(keys.InstanceCalls(identity.Id), callId.ToString());

    public static async Task<bool> IsRunningAsync(IDatabase db, RedisKeys keys, string instanceId, Guid callId) =>
        await db.SetContainsAsync(keys.InstanceCalls(instanceId), callId.ToString());
}
