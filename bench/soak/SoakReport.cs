using System.Globalization;
using System.Text;

namespace FailoverWatch.Soak;

/// <summary>The soak's report, whatever its kind: the header, the kind's table, the totals, then every violation with its evidence folder.</summary>
internal static class SoakReport
{
    public static string Render<TDraw, TResult>(ISoakKind<TDraw, TResult> kind, IReadOnlyList<TResult> rounds, IReadOnlyList<string> errors, string header)
        where TResult : ISoakResult
    {
        var text = new StringBuilder();
        text.AppendLine(header).AppendLine();
        foreach (var line in kind.Table(rounds))
        {
            text.AppendLine(line);
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Rounds: {rounds.Count}; acknowledged writes: {rounds.Sum(r => r.Acks)}; soak errors (rounds that could not run): {errors.Count}.");
        foreach (var line in kind.Summary(rounds))
        {
            text.AppendLine(line);
        }

        foreach (var round in rounds.Where(r => r.Violations.Count > 0))
        {
            foreach (var violation in round.Violations)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- VIOLATION round {round.Number} ({round.Label}, {round.NodeCount} nodes; {round.Notes}): {violation} [evidence: {round.Evidence}]");
            }
        }

        foreach (var error in errors)
        {
            text.AppendLine("- SOAK ERROR " + error);
        }

        return text.ToString();
    }
}
