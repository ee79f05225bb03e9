using System.Security.Cryptography;
using System.Text;
using FailoverWatch.Configuration;
using Microsoft.AspNetCore.Http;

namespace FailoverWatch.Http;

/// <summary>The bearer token that guards control endpoints. Without <c>admin_token_file</c> they are off (403).</summary>
internal sealed class AdminToken(FailoverWatchOptions options)
{
    private readonly byte[]? _token = options.Http.AdminTokenFile is { } file ? Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim()) : null;

    /// <summary>Null when the request may go on, else the result to answer with.</summary>
    public IResult? Check(HttpRequest request)
    {
        if (_token is null || _token.Length == 0)
        {
            return Results.Problem("control endpoints are off: no http.admin_token_file configured", statusCode: StatusCodes.Status403Forbidden);
        }

        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        var given = header.StartsWith(prefix, StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()) : [];
        return CryptographicOperations.FixedTimeEquals(given, _token)
            ? null
            : Results.Problem("missing or wrong bearer token", statusCode: StatusCodes.Status401Unauthorized);
    }
}
