using VoiceStudio.Media.Flows;

namespace VoiceStudio.Tests.Flows;

public sealed class UnderstandingTests
{
    private static readonly DateTimeOffset Tuesday = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(CapturePattern.Weekday, "on tuesday please", "tuesday")]
    [InlineData(CapturePattern.Weekday, "tomorrow", "wednesday")]
    [InlineData(CapturePattern.Date, "the fifth of december", "2026-12-05")]
    [InlineData(CapturePattern.Date, "march 3", "2027-03-03")]
    [InlineData(CapturePattern.Date, "next friday", "2026-11-27")]
    [InlineData(CapturePattern.Date, "2026-12-31", "2026-12-31")]
    [InlineData(CapturePattern.YesNo, "yeah that's right", "yes")]
    [InlineData(CapturePattern.YesNo, "no thanks", "no")]
    [InlineData(CapturePattern.Number, "two hundred and five", "205")]
    [InlineData(CapturePattern.Number, "about 42 of them", "42")]
    [InlineData(CapturePattern.Digits, "four oh seven one", "4071")]
    [InlineData(CapturePattern.Phone, "plus one five five five one two three four five six seven", "+15551234567")]
    [InlineData(CapturePattern.Name, "my name is alice", "Alice")]
    [InlineData(CapturePattern.Name, "um it's bob smith", "Bob Smith")]
    [InlineData(CapturePattern.Weekday, "whenever", null)]
    [InlineData(CapturePattern.Phone, "one two three", null)]
    public void Captures_take_their_value_from_what_was_said(CapturePattern pattern, string said, string? expected) =>
        Assert.Equal(expected, Understanding.Extract(new Capture("v", pattern, []), said, Tuesday));

    [Fact]
    public void A_regex_capture_takes_its_value_group()
    {
        var capture = new Capture("order", CapturePattern.Regex, [], Regex: @"order (?<value>[a-z]{2}\d+)");
        Assert.Equal("ab123", Understanding.Extract(capture, "it is order AB123 thanks", Tuesday)!.ToLowerInvariant());
    }

    [Fact]
    public void Intents_match_fuzzily_and_the_longer_phrase_wins_a_tie()
    {
        Intent[] intents =
        [
            new("book", ["book", "book an appointment"], [], null, "a"),
            new("hours", ["opening hours"], ["open"], null, "b"),
        ];
        Assert.Equal("book", Understanding.MatchIntent("I'd like to book an appointment", intents, 80)!.Value.Intent.Name);
        Assert.Equal("hours", Understanding.MatchIntent("opening hour", intents, 80)!.Value.Intent.Name); // a slip of recognition
        Assert.Equal("hours", Understanding.MatchIntent("are you open on sunday", intents, 80)!.Value.Intent.Name);
        Assert.Null(Understanding.MatchIntent("the weather is nice", intents, 80));
    }
}
