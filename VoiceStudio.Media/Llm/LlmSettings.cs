using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using OpenAI;

namespace VoiceStudio.Media.Llm;

/// <summary>
/// Where an agent's language model is: any OpenAI-compatible Chat Completions endpoint (OpenAI, Azure OpenAI's v1
/// API, Groq, Together, Ollama, vLLM, llama.cpp), a key, a model and the generation settings.
/// </summary>
public sealed record LlmSettings
{
    public static readonly Uri OpenAiBaseUrl = new("https://api.openai.com/v1/");

    public Uri BaseUrl { get; init; } = OpenAiBaseUrl;
    /// <summary>Empty for servers that take none (Ollama, llama.cpp).</summary>
    public string ApiKey { get; init; } = "";
    public required string Model { get; init; }
    public double Temperature { get; init; } = 0.7;
    public int MaxTokens { get; init; } = 512;
    /// <summary>How long the first token may take; the whole reply gets <see cref="ReplyTimeout"/>.</summary>
    public TimeSpan FirstTokenTimeout { get; init; } = TimeSpan.FromSeconds(8);
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Spoken when the model fails (timeout, 429, 5xx, unreachable); the call goes on.</summary>
    public string FallbackLine { get; init; } = "Sorry, I am having trouble answering right now. Could you say that again?";
}

/// <summary>
/// Chat clients by endpoint, key and model, made once and shared by every call (the OpenAI client pools its
/// connections). No retries: a caller on the line cannot wait for backoff, so a failure is spoken at once.
/// </summary>
public static class LlmClients
{
    private static readonly ConcurrentDictionary<(Uri, string, string), IChatClient> Clients = new();

    public static IChatClient For(LlmSettings settings) =>
        Clients.GetOrAdd((settings.BaseUrl, settings.ApiKey, settings.Model), key =>
        {
            var options = new OpenAIClientOptions
            {
                Endpoint = key.Item1,
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = TimeSpan.FromSeconds(120),
            };
            // The OpenAI package insists on a credential; keyless local servers ignore the header.
            var client = new OpenAIClient(new ApiKeyCredential(key.Item2.Length > 0 ? key.Item2 : "no-key"), options);
            return client.GetChatClient(key.Item3).AsIChatClient();
        });
}
