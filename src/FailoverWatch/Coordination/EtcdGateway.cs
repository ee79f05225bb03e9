using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Etcdserverpb;
using FailoverWatch.Configuration;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mvccpb;

namespace FailoverWatch.Coordination;

/// <summary>
/// The few etcd v3 calls coordination needs, over dotnet-etcd (gRPC), each bounded by a deadline so a cluster
/// without quorum (where requests hang) never hangs a monitor. A call that fails is tried once more: the client
/// spreads calls over the endpoints, so the retry usually reaches another member.
/// </summary>
internal sealed class EtcdGateway : IEtcdGateway, IDisposable
{
    private readonly EtcdClient _client;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _keepAliveLock = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? _keepAlive;
    private int _disposeCount;

    /// <param name="callTimeout">Default a third of lease_ttl (a monitor must renew in time); a CLI run, cold, may wait longer.</param>
    /// <param name="logger">Told when a changed cert_file, key_file or ca_file does not load.</param>
    public EtcdGateway(EtcdOptions options, TimeProvider time, TimeSpan? callTimeout = null, ILogger? logger = null)
    {
        _time = time;
        CallTimeout = callTimeout ?? TimeSpan.FromSeconds(Math.Clamp(options.LeaseTtl.TotalSeconds / 3, 0.5, 2));
        var endpoints = string.Join(",", options.Endpoints);
        var tls = Tls(options, time, logger ?? NullLogger.Instance);
        // The client spreads calls over the endpoints by host and port alone, plain http/2 unless told: an https
        // endpoint would get cleartext, which etcd ends at once.
        var secure = options.Endpoints.All(e => e.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        Action<GrpcChannelOptions> channel = o =>
        {
            o.HttpHandler = Handler(tls, CallTimeout);
            if (options.CertFile is not null)
            {
                // Without the client's own retries (1 s back-off and more): within a call's deadline they turn etcd
                // refusing the certificate into "no answer"; CallAsync tries once more itself. Kept otherwise: the soaks
                // measured recovery from etcd faults with them.
                o.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
            }

            if (secure)
            {
                o.Credentials = ChannelCredentials.SecureSsl;
            }
        };
        _client = options is { Username: { } user, PasswordFile: { } passwordFile }
            ? new EtcdClient(endpoints, user, File.ReadAllText(passwordFile).Trim(), configureChannelOptions: channel)
            : new EtcdClient(endpoints, configureChannelOptions: channel);
    }

    public TimeSpan CallTimeout { get; }

    public Task<long> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
        CallAsync(async (deadline, ct) => (await _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)ttl.TotalSeconds }, deadline: deadline, cancellationToken: ct)).ID, cancellationToken);

    /// <summary>
    /// On one LeaseKeepAlive stream kept open, a request and its answer at a time, rather than a stream per renewal.
    /// A stream that fails or does not answer within the call timeout is dropped, never reused (a late answer would
    /// be taken for the next request's), and the renewal tried once more on a new one, probably to another member.
    /// </summary>
    public async Task<long> KeepAliveAsync(long lease, CancellationToken cancellationToken)
    {
        await _keepAliveLock.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(CallTimeout);
                try
                {
                    _keepAlive ??= _client.GetConnection().LeaseClient.LeaseKeepAlive(cancellationToken: _disposed.Token);
                    await _keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, deadline.Token);
                    if (await _keepAlive.ResponseStream.MoveNext(deadline.Token))
                    {
                        return _keepAlive.ResponseStream.Current.TTL;
                    }

                    throw new RpcException(new Status(StatusCode.Unavailable, "the keep-alive stream ended"));
                }
                // IOException: the connection under the stream was reset (a member restarted), which a write reports as such.
                catch (Exception e) when (e is RpcException or OperationCanceledException or InvalidOperationException or IOException)
                {
                    _keepAlive?.Dispose();
                    _keepAlive = null;
                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }

                    if (attempt > 1)
                    {
                        throw e as RpcException ?? new RpcException(e is IOException
                            ? new Status(StatusCode.Unavailable, e.Message, e)
                            : new Status(StatusCode.DeadlineExceeded, $"no answer within {CallTimeout.TotalSeconds:0.#}s", e));
                    }
                }
            }
        }
        finally
        {
            _keepAliveLock.Release();
        }
    }

    public Task RevokeAsync(long lease, CancellationToken cancellationToken) =>
        CallAsync(async (deadline, ct) => await _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: deadline, cancellationToken: ct), cancellationToken);

    public Task<KeyValue?> GetAsync(string key, CancellationToken cancellationToken) =>
        CallAsync(async (deadline, ct) => (await _client.GetAsync(key, deadline: deadline, cancellationToken: ct)).Kvs.FirstOrDefault(), cancellationToken);

    public Task<IReadOnlyList<KeyValue>> GetPrefixAsync(string prefix, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<KeyValue>>(async (deadline, ct) => [.. (await _client.GetRangeAsync(prefix, deadline: deadline, cancellationToken: ct)).Kvs], cancellationToken);

    public Task<(IReadOnlyList<KeyValue> Kvs, long Revision)> GetPrefixExceptAsync(string prefix, string excluded, CancellationToken cancellationToken) =>
        CallAsync<(IReadOnlyList<KeyValue>, long)>(
            async (deadline, ct) =>
            {
                // Two ranges, before and after the excluded one, read at one revision.
                var txn = new TxnRequest();
                txn.Success.Add(Range(prefix, excluded));
                txn.Success.Add(Range(PrefixEnd(excluded), PrefixEnd(prefix)));
                var response = await _client.TransactionAsync(txn, deadline: deadline, cancellationToken: ct);
                return ([.. response.Responses.SelectMany(r => r.ResponseRange.Kvs)], response.Header.Revision);
            },
            cancellationToken);

    public Task<(IReadOnlyList<KeyValue> Kvs, long Revision)> ReadPrefixAsync(string prefix, CancellationToken cancellationToken) =>
        CallAsync<(IReadOnlyList<KeyValue>, long)>(
            async (deadline, ct) => (await _client.GetRangeAsync(prefix, deadline: deadline, cancellationToken: ct)) is var r ? ([.. r.Kvs], r.Header.Revision) : default,
            cancellationToken);

    public async IAsyncEnumerable<IReadOnlyList<Event>> WatchAsync(string prefix, long fromRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // "hasleader": a member cut off from its cluster ends the stream instead of keeping it open and silent.
        using var call = _client.GetConnection().WatchClient.Watch(new Metadata { { "hasleader", "true" } }, cancellationToken: cancellationToken);
        var create = new WatchCreateRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(PrefixEnd(prefix)), StartRevision = fromRevision };
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var response = call.ResponseStream.Current;
            if (response.CompactRevision != 0)
            {
                throw new EtcdCompactedException(response.CompactRevision);
            }

            if (response.Canceled)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"watch cancelled: {response.CancelReason}"));
            }

            if (response.Events.Count > 0)
            {
                yield return [.. response.Events];
            }
        }

        throw new RpcException(new Status(StatusCode.Unavailable, "the watch stream ended"));
    }

    public Task CompactAsync(long revision, CancellationToken cancellationToken) =>
        CallAsync(async (deadline, ct) => await _client.CompactAsync(new CompactionRequest { Revision = revision }, deadline: deadline, cancellationToken: ct), cancellationToken);

    public Task<StatusResponse> StatusAsync(CancellationToken cancellationToken) =>
        CallAsync(async (deadline, ct) => await _client.GetConnection().MaintenanceClient.StatusAsync(new StatusRequest(), deadline: deadline, cancellationToken: ct), cancellationToken);

    public Task<IReadOnlyList<AlarmMember>> AlarmsAsync(CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<AlarmMember>>(
            async (deadline, ct) => [.. (await _client.GetConnection().MaintenanceClient.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, deadline: deadline, cancellationToken: ct)).Alarms],
            cancellationToken);

    public Task<bool> RevisionReadableAsync(long revision, CancellationToken cancellationToken) =>
        CallAsync(
            async (deadline, ct) =>
            {
                try
                {
                    await _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("\0"), Revision = revision, CountOnly = true }, deadline: deadline, cancellationToken: ct);
                    return true;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.OutOfRange)
                {
                    return false;
                }
            },
            cancellationToken);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken) =>
        CallAsync(async (deadline, ct) => await _client.TransactionAsync(request, deadline: deadline, cancellationToken: ct), cancellationToken);

    public static Compare CreateRevisionIs(string key, long revision) =>
        new() { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = revision };

    public static Compare ModRevisionIs(string key, long revision) =>
        new() { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = revision };

    public static Compare LeaseIs(string key, long lease) =>
        new() { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.Equal, Lease = lease };

    public static RequestOp Put(string key, byte[] value, long lease = 0) =>
        new() { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value), Lease = lease } };

    public static RequestOp Delete(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    private static RequestOp Range(string from, string to) =>
        new() { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(from), RangeEnd = ByteString.CopyFromUtf8(to) } };

    /// <summary>The first key after every key that starts with <paramref name="prefix"/> (our prefixes end in '/', so no carry).</summary>
    private static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    public static RequestOp Get(string key) => new() { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    public void Dispose()
    {
        // Registered as itself and as IEtcdGateway: the container disposes it once for each.
        if (Interlocked.Exchange(ref _disposeCount, 1) == 1)
        {
            return;
        }

        _disposed.Cancel();
        _keepAlive?.Dispose();
        _disposed.Dispose();
        _keepAliveLock.Dispose();
        _client.Dispose();
    }

    private async Task<T> CallAsync<T>(Func<DateTime, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call((_time.GetUtcNow() + CallTimeout).UtcDateTime, cancellationToken);
            }
            catch (RpcException e) when (attempt == 1 && e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
            {
                // Once more: probably another member.
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                // The deadline can surface as a cancelled HTTP/2 stream rather than a status: one kind of failure for callers.
                if (attempt > 1)
                {
                    throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"no answer within {CallTimeout.TotalSeconds:0.#}s", e));
                }
            }
        }
    }

    /// <summary>
    /// Ours for the TLS settings, so it must keep what the client's own handler does: HTTP/2 pings, without which
    /// a connection to a frozen or vanished member is found dead only when a call's deadline runs out.
    /// </summary>
    private static SocketsHttpHandler Handler(SslClientAuthenticationOptions tls, TimeSpan callTimeout) =>
        new()
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            // Neither may be under a second; a short lease_ttl's call timeout is.
            KeepAlivePingDelay = TimeSpan.FromSeconds(Math.Max(1, callTimeout.TotalSeconds * 2)),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(Math.Max(1, callTimeout.TotalSeconds)),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            SslOptions = tls,
        };

    /// <summary>
    /// The client certificate and the CA, each read again when its files change: a renewed pair is presented at the
    /// next connection's handshake, without a restart (one that does not load is refused, the last good one kept).
    /// Made once for every channel, so a change is loaded and told once.
    /// </summary>
    private static SslClientAuthenticationOptions Tls(EtcdOptions options, TimeProvider time, ILogger logger)
    {
        var tls = new SslClientAuthenticationOptions();
        if (options.CertFile is { } cert && options.KeyFile is { } key)
        {
            var client = new ReloadingFiles<X509Certificate2>(
                [cert, key], () => HttpTlsConfigValidator.LoadServerCertificate(cert, key).Certificate, time, e => logger.TlsFilesRefused(cert, e.Message));
            tls.LocalCertificateSelectionCallback = (_, _, _, _, _) => client.Current;
        }

        if (options.CaFile is { } caFile)
        {
            tls.RemoteCertificateValidationCallback = TlsTrust.Callback(caFile, time, logger);
        }

        return tls;
    }
}
