using VoiceStudio.Data.Calls;
using VoiceStudio.Web.Features.Jobs;

namespace VoiceStudio.Tests.Jobs;

public sealed class RecordingCleanupJobTests
{
    [Fact]
    public async Task Deletes_recordings_past_retention_and_keeps_the_rest()
    {
        await using var context = await JobTestContext.CreateAsync(retentionDays: 7);
        var oldFile = Write(context, "old.wav", age: TimeSpan.FromDays(8), bytes: 1000);
        var newFile = Write(context, "new.wav", age: TimeSpan.FromDays(1), bytes: 10);
        var oldOrphan = Write(context, "2026/orphan-old.wav", age: TimeSpan.FromDays(9), bytes: 500);
        var newOrphan = Write(context, "orphan-new.wav", age: TimeSpan.FromDays(2), bytes: 5);
        var outside = Path.Combine(Path.GetTempPath(), $"vs-outside-{Guid.NewGuid():N}.wav");
        await File.WriteAllTextAsync(outside, "not ours");

        var expired = await context.AddCallAsync(CallStatus.Completed, TimeSpan.FromDays(8), recording: "old.wav", endedAgo: TimeSpan.FromDays(8));
        var recent = await context.AddCallAsync(CallStatus.Completed, TimeSpan.FromDays(1), recording: newFile, endedAgo: TimeSpan.FromDays(1));
        var escaping = await context.AddCallAsync(CallStatus.Completed, TimeSpan.FromDays(10), recording: outside, endedAgo: TimeSpan.FromDays(10));
        var noRecording = await context.AddCallAsync(CallStatus.Completed, TimeSpan.FromDays(30), endedAgo: TimeSpan.FromDays(30));

        var result = await context.Get<RecordingCleanupJob>().RunAsync();

        Assert.Equal(new RecordingCleanupResult(RowsChanged: 2, FilesDeleted: 2, BytesFreed: 1500), result);
        Assert.False(File.Exists(oldFile));
        Assert.False(File.Exists(oldOrphan));
        Assert.True(File.Exists(newFile));
        Assert.True(File.Exists(newOrphan));
        Assert.True(File.Exists(outside), "a path outside RECORDINGS_DIR is never deleted");
        File.Delete(outside);

        Assert.Null((await context.CallAsync(expired)).RecordingPath);
        Assert.Equal([CallEventTypes.RecordingDeleted], await context.EventTypesAsync(expired));
        Assert.Null((await context.CallAsync(escaping)).RecordingPath);
        Assert.Equal(newFile, (await context.CallAsync(recent)).RecordingPath);
        Assert.Empty(await context.EventTypesAsync(recent));
        Assert.Empty(await context.EventTypesAsync(noRecording));
        Assert.Equal(CallStatus.Completed, (await context.CallAsync(expired)).Status);
    }

    [Fact]
    public async Task A_second_run_finds_nothing_to_do()
    {
        await using var context = await JobTestContext.CreateAsync(retentionDays: 1);
        Write(context, "a.wav", age: TimeSpan.FromDays(2), bytes: 3);
        await context.AddCallAsync(CallStatus.Completed, TimeSpan.FromDays(2), recording: "a.wav", endedAgo: TimeSpan.FromDays(2));
        var job = context.Get<RecordingCleanupJob>();
        Assert.Equal(new RecordingCleanupResult(1, 1, 3), await job.RunAsync());
        Assert.Equal(new RecordingCleanupResult(0, 0, 0), await job.RunAsync());
    }

    private static string Write(JobTestContext context, string relative, TimeSpan age, int bytes)
    {
        var path = Path.Combine(context.RecordingsDir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
        File.SetLastWriteTimeUtc(path, (JobTestContext.Now - age).UtcDateTime);
        return path;
    }
}
