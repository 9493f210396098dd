using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace VideoCallbacks.Testing;

/// <summary>
/// A throwaway redis-server (Debian's package) on a free port with its own temp dir, one per test, so a test
/// can kill it and start it again on the same port. A missing binary is installed by the kit (<see cref="Provisioning"/>)
/// or fails the test with the command to run: it is never skipped.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _binary;
    private readonly string _dir;
    private Process? _process;

    private RedisServer(string binary, string dir, int port)
    {
        _binary = binary;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The <c>Cache:Redis:Configuration</c> for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var binary = await Provisioning.EnsureAsync("redis-server", "redis-server", "REDIS_SERVER", FindBinary);
        var dir = Path.Combine(Path.GetTempPath(), $"vc-redis-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(binary, dir, Ports.Free());
            try
            {
                await server.StartAgainAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Lost the port to someone else between the check and the bind: try another.
                server.Kill();
            }
        }
    }

    /// <summary>Starts the server (again) on the same port, empty: as after a restart without persistence.</summary>
    public async Task StartAgainAsync()
    {
        var psi = new ProcessStartInfo(_binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _dir,
        };
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--dir", _dir, "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning" })
        {
            psi.ArgumentList.Add(a);
        }
        var output = new StringBuilder();
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await PingsAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                Kill();
                string log;
                lock (output) log = output.ToString();
                throw new InvalidOperationException($"redis-server did not start on port {Port}: {log}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open but nothing answers, as with a stalled Redis.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill {signal} failed ({kill.ExitCode}).");
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash or a lost network would.</summary>
    public void Kill()
    {
        if (_process is { } p)
        {
            try
            {
                p.Kill();
                p.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            p.Dispose();
            _process = null;
        }
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }

    private static string? FindBinary() => Provisioning.FindFile("redis-server", "REDIS_SERVER", "/usr/bin/redis-server");

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp directory is throwaway.
        }
        return ValueTask.CompletedTask;
    }
}
