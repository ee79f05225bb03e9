namespace FailoverWatch.Soak;

/// <summary>
/// One kind of soak for <see cref="SoakRunner"/>: what a round draws, how it runs one, and the lines only this kind
/// prints and reports. <typeparamref name="TDraw"/> is one round's fault (or combination of faults).
/// </summary>
internal interface ISoakKind<TDraw, TResult>
    where TResult : ISoakResult
{
    /// <summary>A round takes about a minute: none starts once less than this remains.</summary>
    TimeSpan LastStart { get; }

    /// <summary>The report's first words.</summary>
    string Title { get; }

    /// <summary>The setting that tells this soak's rounds apart, for the report's header (e.g. <c>SOAK_MONITORS=3</c>).</summary>
    string Setting { get; }

    /// <summary>Every draw once, in a fixed order (a new array: the loop shuffles it).</summary>
    TDraw[] Bag();

    string Label(TDraw draw);

    Task<TResult> RunAsync(int number, TDraw draw, int nodeCount, CancellationToken cancellationToken);

    /// <summary>The console line of a round that ran.</summary>
    string Line(TResult result);

    /// <summary>The header's end, after its cores: what the table's columns mean.</summary>
    string HeaderEnd();

    /// <summary>The table, its header rows included.</summary>
    IEnumerable<string> Table(IReadOnlyList<TResult> rounds);

    /// <summary>Lines after the totals line.</summary>
    IEnumerable<string> Summary(IReadOnlyList<TResult> rounds);
}
