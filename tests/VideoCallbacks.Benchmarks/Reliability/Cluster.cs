using VideoCallbacks.Testing;

namespace VideoCallbacks.Benchmarks.Reliability;

/// <summary>
/// One or more service processes on one database, each on a fixed port for the whole run (callback URLs name the
/// instance that handed them out), that a scenario kills, stops and starts again. <see cref="PickBaseUrl"/> plays the
/// load balancer: it spreads requests over the instances it believes are up, as a health-checking balancer would.
/// </summary>
public sealed class Cluster : IAsyncDisposable
{
    private readonly string _storageProvider;
    private readonly string _connectionString;
    private readonly int[] _ports;
    private readonly ServiceProcess?[] _instances;
    private readonly bool[] _up;

    public Cluster(string storageProvider, string connectionString, Dictionary<string, string> settings, int instances = 1)
    {
        _storageProvider = storageProvider;
        _connectionString = connectionString;
        Settings = settings;
        _ports = Enumerable.Range(0, instances).Select(_ => Ports.Free()).ToArray();
        _instances = new ServiceProcess?[instances];
        _up = new bool[instances];
    }

    /// <summary>The configuration the next start uses (a scenario may change it between restarts).</summary>
    public Dictionary<string, string> Settings { get; }

    public int Count => _instances.Length;

    public int Starts { get; private set; }

    public Uri BaseUrl(int slot) => new($"http://127.0.0.1:{_ports[slot]}");

    public ServiceProcess? Instance(int slot) => _instances[slot];

    public async Task StartAllAsync()
    {
        for (var slot = 0; slot < Count; slot++) await StartAsync(slot);
    }

    public async Task StartAsync(int slot)
    {
        if (_instances[slot] is { } old) await old.DisposeAsync();
        _instances[slot] = null;
        Starts++;
        _instances[slot] = await ServiceProcess.StartAsync(_storageProvider, _connectionString, Settings, port: _ports[slot]);
        Volatile.Write(ref _up[slot], true);
    }

    /// <summary>SIGKILL: no goodbye, requests in flight are cut.</summary>
    public async Task KillAsync(int slot)
    {
        Volatile.Write(ref _up[slot], false);
        if (_instances[slot] is { } instance) await instance.KillAsync();
    }

    /// <summary>
    /// SIGTERM, then waits for the exit; answers the exit code. The balancer stops sending to it first, as an
    /// orchestrator takes a pod out of its endpoints; requests already on their way still arrive.
    /// </summary>
    public async Task<int> TerminateAsync(int slot)
    {
        Volatile.Write(ref _up[slot], false);
        var instance = _instances[slot] ?? throw new InvalidOperationException($"instance {slot} is not running");
        await instance.TerminateAsync();
        return await instance.WaitForExitAsync();
    }

    public Uri PickBaseUrl(int counter)
    {
        var up = Enumerable.Range(0, Count).Where(s => Volatile.Read(ref _up[s])).ToList();
        var slot = up.Count > 0 ? up[(int)((uint)counter % (uint)up.Count)] : (int)((uint)counter % (uint)Count);
        return BaseUrl(slot);
    }

    /// <summary>A driver on the first instance that is up.</summary>
    public ServiceApi Api()
    {
        var slot = Enumerable.Range(0, Count).First(s => Volatile.Read(ref _up[s]));
        return new ServiceApi(BaseUrl(slot));
    }

    /// <summary>What the instances last wrote (for a failure's diagnosis).</summary>
    public string OutputTail(int lines = 12) => string.Join(Environment.NewLine, _instances
        .Where(i => i is not null)
        .SelectMany((i, n) => i!.Output.Split(Environment.NewLine).TakeLast(lines).Select(l => $"[{n}] {(l.Length > 400 ? l[..400] + "..." : l)}")));

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            if (instance is not null) await instance.DisposeAsync();
        }
    }
}
