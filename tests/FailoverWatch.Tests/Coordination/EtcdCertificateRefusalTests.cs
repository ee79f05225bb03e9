using System.Security.Authentication;
using FailoverWatch.Configuration;
using FailoverWatch.Coordination;
using Grpc.Core;

namespace FailoverWatch.Tests.Coordination;

/// <summary>The shapes a refused client certificate took against a real etcd 3.4 (see EtcdTlsTests), and their look-alikes.</summary>
public sealed class EtcdCertificateRefusalTests
{
    private static readonly EtcdOptions WithCertificate = new() { Endpoints = ["https://a:2379"], CertFile = "c.pem", KeyFile = "c.key" };
    private static readonly EtcdOptions WithoutCertificate = new() { Endpoints = ["https://a:2379"] };

    private static RpcException Failed(Exception cause) =>
        new(new Status(StatusCode.Unavailable, "Error starting gRPC call. " + cause.Message, new HttpRequestException(HttpRequestError.InvalidResponse, "An HTTP/2 connection could not be established because the server did not complete the HTTP/2 handshake.", cause)));

    [Theory]
    [InlineData("error:0A000412:SSL routines::sslv3 alert bad certificate", "sslv3 alert bad certificate")]
    [InlineData("error:0A00045C:SSL routines::tlsv13 alert certificate required", "tlsv13 alert certificate required")]
    [InlineData("error:0A000415:SSL routines::sslv3 alert certificate expired", "sslv3 alert certificate expired")]
    public void an_alert_about_the_client_certificate_is_named_with_or_without_one_configured(string openssl, string alert)
    {
        var error = Failed(new IOException("The decryption operation failed, see inner exception.", new AuthenticationException(openssl)));

        Assert.StartsWith($"the TLS handshake ended in '{alert}': etcd's --trusted-ca-file did not sign", EtcdCertificateRefusal.Reason(error, WithoutCertificate), StringComparison.Ordinal);
        Assert.NotNull(EtcdCertificateRefusal.Reason(error, WithCertificate));
    }

    [Fact]
    public void a_connection_ended_before_any_http2_counts_only_when_a_client_certificate_is_presented()
    {
        var ended = new HttpIOException(HttpRequestError.InvalidResponse, "An HTTP/2 connection could not be established because the server did not complete the HTTP/2 handshake.", new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely while waiting for the next frame from the server."));

        Assert.StartsWith("etcd ended each connection right after the TLS handshake", EtcdCertificateRefusal.Reason(Failed(ended), WithCertificate), StringComparison.Ordinal);
        Assert.Null(EtcdCertificateRefusal.Reason(Failed(ended), WithoutCertificate));
    }

    [Fact]
    public void an_unreachable_etcd_or_a_server_certificate_this_monitor_refuses_is_not_a_refused_client_certificate()
    {
        Assert.Null(EtcdCertificateRefusal.Reason(Failed(new IOException("Connection refused")), WithCertificate));
        Assert.Null(EtcdCertificateRefusal.Reason(Failed(new AuthenticationException("The remote certificate was rejected by the provided RemoteCertificateValidationCallback.")), WithCertificate));
        Assert.Null(EtcdCertificateRefusal.Reason(new RpcException(new Status(StatusCode.DeadlineExceeded, "")), WithCertificate));
    }
}
