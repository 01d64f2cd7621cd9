using System.Text;

namespace VoiceStudio.Media.Speech;

/// <summary>
/// Cuts text, whole or streamed in fragments, into sentences, so the first sentence can be synthesized and on
/// the wire while the rest is still being written or synthesized.
/// </summary>
public sealed class SentenceSplitter
{
    private readonly StringBuilder _pending = new();

    /// <summary>Adds text; returns the sentences it completed.</summary>
    public IEnumerable<string> Add(string text)
    {
        _pending.Append(text);
        var sentences = new List<string>();
        var start = 0;
        for (var i = 0; i < _pending.Length; i++)
        {
            var c = _pending[i];
            var ends = c is '.' or '!' or '?' or ';' or '\n';
            if (ends && i + 1 < _pending.Length && char.IsWhiteSpace(_pending[i + 1]) && !IsNumberPoint(i))
            {
                Emit(sentences, start, i + 1);
                start = i + 1;
            }
        }
        _pending.Remove(0, start);
        return sentences;
    }

    /// <summary>What is left at the end of the text.</summary>
    public string? Flush()
    {
        var rest = _pending.ToString().Trim();
        _pending.Clear();
        return rest.Length > 0 ? rest : null;
    }

    private bool IsNumberPoint(int i) =>
        _pending[i] == '.' && i > 0 && char.IsDigit(_pending[i - 1]) && i + 1 < _pending.Length && char.IsDigit(_pending[i + 1]);

    private void Emit(List<string> sentences, int start, int end)
    {
        var sentence = _pending.ToString(start, end - start).Trim();
        if (sentence.Length > 0)
        {
            sentences.Add(sentence);
        }
    }
}
