using VoiceStudio.Media.Calls;

namespace VoiceStudio.Tests.Flows;

/// <summary>Reading what a conversation asked the engine to do, for the runtime's tests.</summary>
internal static class Outputs
{
    /// <summary>Runs one step of a conversation to its end and keeps its outputs.</summary>
    public static async Task<List<ConversationOutput>> Run(IAsyncEnumerable<ConversationOutput> outputs)
    {
        var list = new List<ConversationOutput>();
        await foreach (var output in outputs)
        {
            list.Add(output);
        }
        return list;
    }

    public static List<Trace> Traces(List<ConversationOutput> outputs, string type) => [.. outputs.OfType<Trace>().Where(t => t.Type == type)];
}
