using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using L4Rt.Ipc;
using L4Rt.Objects;

namespace L4Rt.Cli;

/// <summary>
/// l4rt's typed arguments. Each is parsed and checked before anything connects to the broker, and each error
/// names the argument and says what it takes, so bad input is a usage error and never an exception.
/// </summary>
internal static class CliArguments
{
    /// <summary>A name in the broker's name service, checked against the name rules.</summary>
    internal static Argument<string> Name(string description)
    {
        Argument<string> name = new("name") { Description = description };
        name.Validators.Add(result =>
        {
            string? value = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
            if (value is not null && !NameService.IsValidName(value))
            {
                result.AddError($"argument 'name': '{value}' is not a valid name (1–128 of A–Z a–z 0–9 . _ - / :, not starting with / or .)");
            }
        });
        return name;
    }

    /// <summary>Message words: at most <see cref="MsgTag.MaxWords"/>, each a 64-bit unsigned number (decimal or 0x hex).</summary>
    internal static Argument<ulong[]> Words() => new("words")
    {
        Description = $"Message words MR0..MR{MsgTag.MaxWords - 1} (at most {MsgTag.MaxWords}; decimal, or hex as 0x…)",
        Arity = ArgumentArity.ZeroOrMore,
        CustomParser = ParseWords,
    };

    /// <summary>A timeout in milliseconds, or <c>never</c>.</summary>
    internal static Option<L4Timeout> Timeout(string name, string description, int defaultMs) => new(name)
    {
        Description = $"{description}, in milliseconds (0: do not wait; never: wait as long as it takes)",
        DefaultValueFactory = _ => L4Timeout.FromMilliseconds(defaultMs),
        CustomParser = result =>
        {
            string token = result.Tokens[0].Value;
            if (string.Equals(token, "never", StringComparison.OrdinalIgnoreCase))
            {
                return L4Timeout.Never;
            }

            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int ms))
            {
                return L4Timeout.FromMilliseconds(ms);
            }

            result.AddError($"option '{name}': '{token}' is not a timeout (milliseconds from 0 to {int.MaxValue}, or never)");
            return default;
        },
    };

    /// <summary>A whole number of at least <paramref name="min"/>.</summary>
    internal static Option<int> Number(string name, string description, int min, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string token = result.Tokens[0].Value;
            if (int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min)
            {
                return value;
            }

            result.AddError($"option '{name}': '{token}' is not a whole number from {min} to {int.MaxValue}");
            return defaultValue;
        },
    };

    private static ulong[] ParseWords(ArgumentResult result)
    {
        IReadOnlyList<Token> tokens = result.Tokens;
        if (tokens.Count > MsgTag.MaxWords)
        {
            result.AddError($"argument 'words': at most {MsgTag.MaxWords} words fit a message (MR0..MR{MsgTag.MaxWords - 1}), got {tokens.Count}");
            return [];
        }

        ulong[] words = new ulong[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i].Value;
            bool parsed = token.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? ulong.TryParse(token.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i])
                : ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out words[i]);
            if (!parsed)
            {
                string option = token.StartsWith('-') && !char.IsAsciiDigit(token.Length > 1 ? token[1] : ' ') ? " nor an option of this command (see --help)" : "";
                result.AddError($"argument 'words': word {i + 1}, '{token}', is not a number from 0 to {ulong.MaxValue} (decimal, or hex as 0x…){option}");
                return [];
            }
        }

        return words;
    }
}
