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

    /// <summary>
    /// The same decision for a server that is an npm package: node runs it, so it is needed even when the package is
    /// there; npm only to install it. The kit does not apt-get Node.js itself: Debian 12's (18) is older than Azurite wants.
    /// </summary>
    public static ProvisionStep DecideNpm(string what, string? found, string? node, string? npm, string install, string overrideVariable) =>
        node is not null && found is not null ? new Use(found)
        : node is not null && npm is not null ? new Install(install)
        : new Fail($"{what} needs Node.js 20 or later (node and npm), which was not found. " +
                   "Run: sudo apt-get install -y nodejs npm   (Debian 13+; on Debian 12 NodeSource's nodejs 20+) " +
                   $"(or set NODE and NPM to their paths, or {overrideVariable} to an installed one). These tests need a real server and are never skipped.");
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

    /// <summary>Where the kit installs an npm package, one folder per version, shared by every test process of the machine.</summary>
    public static string NpmPrefix(string package, string version) =>
        Path.Combine(Path.GetTempPath(), "videocallbacks-testkit", $"{package}-{version}");

    private static string? FindNode() => FindFile("node", "NODE", "/usr/bin/node", "/usr/local/bin/node");

    private static string? FindNpm() => FindFile("npm", "NPM", "/usr/bin/npm", "/usr/local/bin/npm");

    /// <summary>
    /// Node and the script <paramref name="binary"/> of the npm package at exactly <paramref name="version"/>, installed
    /// into <see cref="NpmPrefix"/> once per machine under the same lock as apt-get. Never PATH or a global install:
    /// another version there would make the tests depend on the machine.
    /// </summary>
    public static async Task<(string Node, string Script)> EnsureNpmAsync(string what, string package, string version, string binary, string overrideVariable)
    {
        var prefix = NpmPrefix(package, version);
        var script = Path.Combine(prefix, "node_modules", ".bin", binary);
        // Written after npm succeeded: a folder left by an interrupted install does not count.
        var marker = Path.Combine(prefix, ".installed");
        string? Find() =>
            Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } env && File.Exists(env) ? env
            : File.Exists(marker) && File.Exists(script) ? script
            : null;

        if (Find() is { } found && FindNode() is { } node) return (node, found);
        await InProcess.WaitAsync();
        try
        {
            using var machineLock = await LockMachineAsync();
            var install = $"npm install --no-audit --no-fund --prefix {prefix} {package}@{version}";
            switch (ProvisionStep.DecideNpm(what, Find(), FindNode(), FindNpm(), install, overrideVariable))
            {
                case ProvisionStep.Use use:
                    return (FindNode()!, use.Path);
                case ProvisionStep.Fail fail:
                    throw new InvalidOperationException(fail.Message);
                case ProvisionStep.Install:
                    Console.Error.WriteLine($"[test kit] installing npm package '{package}@{version}' into {prefix} (once per machine)...");
                    if (Directory.Exists(prefix)) Directory.Delete(prefix, recursive: true);
                    Directory.CreateDirectory(prefix);
                    var nodeDir = Path.GetDirectoryName(FindNode())!;
                    await RunAsync(FindNpm()!, ["install", "--no-audit", "--no-fund", "--prefix", prefix, $"{package}@{version}"], psi =>
                    {
                        // npm and the packages' scripts start "#!/usr/bin/env node": the node found here, not whatever PATH has.
                        psi.Environment["PATH"] = $"{nodeDir}:{Environment.GetEnvironmentVariable("PATH")}";
                        psi.WorkingDirectory = prefix;
                    });
                    if (!File.Exists(script))
                    {
                        throw new InvalidOperationException($"{install} succeeded but {script} is missing; install it by hand or set {overrideVariable}.");
                    }
                    await File.WriteAllTextAsync(marker, $"{package}@{version}\n");
                    Console.Error.WriteLine($"[test kit] installed npm package '{package}@{version}' for {what}: {script}");
                    return (FindNode()!, Find()!);
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

    private static async Task RunAsync(string file, string[] args, Action<ProcessStartInfo>? configure = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        configure?.Invoke(psi);
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
