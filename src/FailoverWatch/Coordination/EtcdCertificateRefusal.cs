using System.Text.RegularExpressions;
using FailoverWatch.Configuration;
using Grpc.Core;

namespace FailoverWatch.Coordination;

/// <summary>
/// etcd's <c>--client-cert-auth</c> refusing this monitor's client certificate: deep in a gRPC error that otherwise
/// reads as an unreachable etcd, which would send the operator the wrong way. Under TLS 1.3 etcd checks the
/// certificate after the handshake has completed on this side, sends an alert and closes; the alert is not always
/// read before the close, and then the connection only ends before etcd's first HTTP/2 frame.
/// </summary>
internal static partial class EtcdCertificateRefusal
{
    private const string Check = "etcd's --trusted-ca-file did not sign this client certificate, or it has expired";

    /// <summary>Why, when <paramref name="error"/> is such a refusal; else null.</summary>
    public static string? Reason(Exception error, EtcdOptions options)
    {
        for (Exception? e = error; e is not null; e = e is RpcException rpc ? rpc.Status.DebugException : e.InnerException)
        {
            if (Alert().Match(e.Message) is { Success: true } alert)
            {
                return $"the TLS handshake ended in '{alert.Value}': {Check}, or none was given";
            }

            if (options.CertFile is not null && e is HttpIOException { HttpRequestError: HttpRequestError.InvalidResponse, InnerException: HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded } })
            {
                return $"etcd ended each connection right after the TLS handshake, before any HTTP/2: {Check}";
            }
        }

        return null;
    }

    // As OpenSSL names the alerts a server sends about the client's certificate.
    [GeneratedRegex(@"\w+ alert (bad certificate|certificate \w+|unknown ca|unsupported certificate)")]
    private static partial Regex Alert();
}
