using System.Diagnostics;

namespace VideoCallbacks.Testing;

/// <summary>What to do about a server binary a test needs: use it, install it, or fail with the command to run.</summary>
public abstract record ProvisionStep
{
    public sealed record Use(string Path) : ProvisionStep;
    public sealed record Install(string Command) : ProvisionStep;
    public sealed record Fail(string Message) : ProvisionStep;

    /// <summary>
    /// The decision, without touching the machine: found = use; missing and this process may install (root, a package
    /// manager) = install; otherwise fail with one line saying exactly what to run. Never skip.
    /// </summary>
    public static ProvisionStep Decide(string what, string? found, bool root, bool hasAptGet, string package, string overrideVariable) =>
        found is not null ? new Use(found)
        : root && hasAptGet ? new Install($"apt-get install -y {package}")
        : new Fail($"{what} was not found and this process cannot install it (needs root and apt-get). " +
                   $"Run: sudo apt-get install -y {package}   (or set {overrideVariable} to its path). These tests need a real server and are never skipped.");
}

/// <summary>
/// Brings the servers the tests need onto the machine the first time a test asks, as Testcontainers would where
/// Docker exists (it does not here): find the binary (override variable, the usual Debian places, PATH), else
/// install its Debian package once per machine under a lock so parallel test processes do not race; say what was
/// installed, once.
/// </summary>
public static class Provisioning
{
    private static readonly SemaphoreSlim InProcess = new(1, 1);
    private static readonly string LockFile = Path.Combine(Path.GetTempPath(), "videocallbacks-provisioning.lock");

    /// <summary>The binary's path, installing <paramref name="package"/> if it is missing and may be installed.</summary>
    /// <param name="find">Looks for the binary; called again after an install.</param>
    public static async Task<string> EnsureAsync(string what, string package, string overrideVariable, Func<string?> find)
    {
        if (find() is { } path) return path;
        await InProcess.WaitAsync();
        try
        {
            using var machineLock = await LockMachineAsync();
            // Another process may have installed it while this one waited for the lock.
            switch (ProvisionStep.Decide(what, find(), IsRoot, HasAptGet, package, overrideVariable))
            {
                case ProvisionStep.Use use:
                    return use.Path;
                case ProvisionStep.Fail fail:
                    throw new InvalidOperationException(fail.Message);
                case ProvisionStep.Install:
                    await AptInstallAsync(package);
                    var installed = find() ?? throw new InvalidOperationException(
                        $"apt-get installed {package} but {what} is still not found; install it by hand or set {overrideVariable}.");
                    Console.Error.WriteLine($"[test kit] installed Debian package '{package}' for {what}: {installed}");
                    return installed;
                default:
                    throw new InvalidOperationException("unreachable");
            }
        }
        finally
        {
            InProcess.Release();
        }
    }

    /// <summary>The first path that exists: the override variable, then the given places, then every PATH folder.</summary>
    public static string? FindFile(string name, string overrideVariable, params string[] places)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } env) candidates.Add(env);
        candidates.AddRange(places);
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)));
        return candidates.FirstOrDefault(File.Exists);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static bool HasAptGet => File.Exists("/usr/bin/apt-get");

    /// <summary>An exclusive lock on a file in /tmp (flock underneath), held by one test process of the machine at a time.</summary>
    private static async Task<FileStream> LockMachineAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    private static async Task AptInstallAsync(string package)
    {
        Console.Error.WriteLine($"[test kit] installing Debian package '{package}' (apt-get; once per machine)...");
        // The package lists may be stale or absent on a fresh machine: update once, then install.
        await RunAsync("apt-get", ["update", "-qq"]);
        await RunAsync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", package]);
        // Packages such as redis-server start a system service; the tests start their own servers.
        if (File.Exists("/usr/bin/systemctl") || File.Exists("/bin/systemctl"))
        {
            try { await RunAsync("systemctl", ["stop", package]); } catch (InvalidOperationException) { }
        }
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        }
    }
}
