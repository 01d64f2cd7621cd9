using Bunit;
using VoiceStudio.Media.Recording;
using VoiceStudio.Web.Components.Shared;
using static VoiceStudio.Web.Components.Shared.LatencyWaterfall;

namespace VoiceStudio.Tests.Components;

/// <summary>The call page's latency waterfall and recording player.</summary>
public sealed class CallDetailPartsTests : ComponentContext
{
    [Fact]
    public void Each_turn_splits_into_four_stages_on_one_scale_for_all_turns()
    {
        var chart = Render<LatencyWaterfall>(p => p.Add(c => c.Turns, [new TurnLatency(1, 100, 400, 600, 800), new TurnLatency(2, 200, 300, 350, 400)]));
        var turns = chart.FindAll("[data-testid=latency-turn]");
        Assert.Equal(2, turns.Count);
        double[] Widths(int turn) => [.. turns[turn].QuerySelectorAll("[data-testid=latency-segment]")
            .Select(s => double.Parse(s.GetAttribute("style")!.Split("width: ")[1].Split('%')[0], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal([12.5, 37.5, 25, 25], Widths(0)); // the slowest turn (800 ms) fills the bar
        Assert.Equal([25, 12.5, 6.25, 6.25], Widths(1));
        Assert.Equal(["100", "300", "200", "200"], turns[0].QuerySelectorAll("[data-testid=latency-segment]").Select(s => s.GetAttribute("data-ms")));
        Assert.Equal("800 ms", turns[0].QuerySelector("[data-testid=latency-total]")!.TextContent);
    }

    [Fact]
    public void A_stage_that_did_not_happen_takes_no_width()
    {
        // no TTS audio was recorded for this turn (0), so voicing takes nothing and sending counts from the reply text
        var chart = Render<LatencyWaterfall>(p => p.Add(c => c.Turns, [new TurnLatency(1, 100, 300, 0, 500)]));
        Assert.Equal(["100", "200", "0", "200"], chart.FindAll("[data-testid=latency-segment]").Select(s => s.GetAttribute("data-ms")));
    }

    [Fact]
    public void The_player_draws_both_sides_and_hooks_up_seeking()
    {
        var caller = new float[RecordingPlayer.Slices];
        var agent = new float[RecordingPlayer.Slices];
        caller[0] = 1f;
        agent[^1] = 0.5f;
        var player = Render<RecordingPlayer>(p => p.Add(c => c.Src, "/api/calls/x/recording").Add(c => c.Waveform, new Waveform(8000, 12.5, [caller, agent])));
        var callerPath = player.Find("[data-testid=wave-caller]").GetAttribute("d")!;
        Assert.StartsWith("M0.5 1V49", callerPath); // full scale: the whole upper lane
        Assert.EndsWith("M599.5 24.7V25.3", callerPath); // silence: a hairline
        Assert.EndsWith("M599.5 63V87", player.Find("[data-testid=wave-agent]").GetAttribute("d")!);
        Assert.Equal("12.50", player.Find("[data-testid=waveform]").GetAttribute("data-duration"));
        Assert.Equal("/api/calls/x/recording", player.Find("audio").GetAttribute("src"));
        Context.JSInterop.VerifyInvoke("voicestudio.attachWaveform");
    }

    [Fact]
    public void Without_a_readable_recording_the_player_still_plays()
    {
        var player = Render<RecordingPlayer>(p => p.Add(c => c.Src, "/api/calls/y/recording"));
        Assert.Empty(player.FindAll("[data-testid=waveform]"));
        Assert.Equal("/api/calls/y/recording", player.Find("audio").GetAttribute("src"));
    }
}
