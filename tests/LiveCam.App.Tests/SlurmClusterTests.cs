using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace LiveCam.App.Tests;

/// <summary>
/// <c>deploy/livecam-reanalyse.sbatch</c> on a real one-node Slurm cluster on this machine (Debian's slurm-wlm and
/// munge, installed by <c>scripts/setup-linux.sh --with-cluster-tests</c>): every item analysed; then a task killed
/// mid-item with scancel, and the array submitted again: the finished items are skipped and the killed one completes.
/// </summary>
public sealed class SlurmClusterTests : IDisposable
{
    readonly string _dir;
    readonly SlurmCluster? _cluster;
    readonly string? _missing;

    public SlurmClusterTests()
    {
        _dir = Directory.CreateTempSubdirectory("livecam-slurm-").FullName;
        _missing = SlurmCluster.Missing();
        if (_missing is null) _cluster = new SlurmCluster(_dir);
    }

    static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LiveCam.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no LiveCam.sln above {AppContext.BaseDirectory}");
    }

    [SkippableFact]
    public void An_array_analyses_every_item_and_a_resubmission_after_scancel_redoes_only_the_killed_one()
    {
        Skip.If(_missing is not null, _missing);
        var cluster = _cluster!;
        // Four short videos and a long one (the one killed), 64x48 so each item takes a second or two.
        var manifest = Path.Combine(_dir, "manifest.txt");
        var lines = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var (code, _, error) = CliRunner.Invoke("render", "synthetic:64x48@10", "--seed", $"{i}", "--frames", "15",
                "--out", Path.Combine(_dir, $"short-{i}.mp4"), "--model", "none");
            Assert.True(code == 0, error);
            lines.Add($"short-{i}.mp4");
        }
        var (made, _, madeError) = CliRunner.Invoke("render", "synthetic:64x48@10", "--frames", "1500",
            "--out", Path.Combine(_dir, "long.mp4"), "--model", "none");
        Assert.True(made == 0, madeError);
        lines.Add("long.mp4");
        File.WriteAllLines(manifest, lines);
        var outDir = Path.Combine(_dir, "out");
        var script = Path.Combine(Repository(), "deploy", "livecam-reanalyse.sbatch");
        var app = Path.Combine(AppContext.BaseDirectory, "livecam.dll");
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet"
            ? Environment.ProcessPath!
            : "dotnet";
        var environment = new Dictionary<string, string>
        {
            ["LIVECAM"] = $"{dotnet} {app}",
            ["LIVECAM_MANIFEST"] = manifest,
            ["LIVECAM_OUT_DIR"] = outDir,
            ["LIVECAM_ATTEMPTS"] = "1",
        };
        string Log(int item) => Path.Combine(outDir, $"short-{item}.mp4", "all.jsonl");
        var longLog = Path.Combine(outDir, "long.mp4", "all.jsonl");
        string TaskOutput(string phase, int task) => File.ReadAllText(Path.Combine(_dir, $"{phase}-{task}.out"));

        // 1. The short items, all of them, one task each (one core a task: two at a time here).
        var first = cluster.Run("sbatch", environment, "--array=0-3", "--wait", "--cpus-per-task=1",
            $"--output={_dir}/first-%a.out", script);
        Assert.True(first.Code == 0, first.Text + cluster.Logs());
        for (int i = 0; i < 4; i++)
        {
            Assert.True(File.Exists(Log(i)), TaskOutput("first", i));
            Assert.Contains("15 frames analysed", TaskOutput("first", i), StringComparison.Ordinal);
        }
        var finished = Enumerable.Range(0, 4).ToDictionary(i => i, i => File.GetLastWriteTimeUtc(Log(i)));

        // 2. The whole array; the long item's task is cancelled while its log is being written.
        // Submitted without --wait: sbatch would hold its job number in its output buffer until the array ends.
        var second = cluster.Run("sbatch", environment, "--array=0-4", "--parsable", "--cpus-per-task=1",
            $"--output={_dir}/second-%a.out", script);
        Assert.True(second.Code == 0, second.Text + cluster.Logs());
        var job = second.Text.Trim().Split(';')[0];
        var partial = longLog + ".partial";
        Assert.True(SlurmCluster.WaitFor(() => File.Exists(partial) && new FileInfo(partial).Length > 0,
            TimeSpan.FromSeconds(120)), "the long item never started writing\n" + cluster.Logs());
        var cancel = cluster.Run("scancel", environment, $"{job}_4");
        Assert.True(cancel.Code == 0, cancel.Text);
        Assert.True(SlurmCluster.WaitFor(() => cluster.Run("squeue", null, "-h", "-j", job).Text.Trim().Length == 0,
            TimeSpan.FromSeconds(120)), "the array did not end after scancel\n" + cluster.Logs());
        Assert.False(File.Exists(longLog), "the killed item must not look finished");
        Assert.True(File.Exists(longLog + ".partial"));
        for (int i = 0; i < 4; i++)
            Assert.Contains($"item {i} (short-{i}.mp4/all): skipped, already done", TaskOutput("second", i),
                StringComparison.Ordinal);

        // 3. The array again: the four finished items are skipped, the killed one completes.
        var third = cluster.Run("sbatch", environment, "--array=0-4", "--wait", "--cpus-per-task=1",
            $"--output={_dir}/third-%a.out", script);
        Assert.True(third.Code == 0, third.Text + TaskOutput("third", 4) + cluster.Logs());
        Assert.Contains("1500 frames analysed", TaskOutput("third", 4), StringComparison.Ordinal);
        Assert.Equal(1500, File.ReadLines(longLog).Count());
        Assert.False(File.Exists(longLog + ".partial"));
        for (int i = 0; i < 4; i++)
        {
            Assert.Contains("skipped, already done", TaskOutput("third", i), StringComparison.Ordinal);
            Assert.Equal(finished[i], File.GetLastWriteTimeUtc(Log(i)));
        }
    }

    public void Dispose()
    {
        try { _cluster?.Dispose(); }
        finally { Directory.Delete(_dir, recursive: true); }
    }

    /// <summary>munged, slurmctld and slurmd in the foreground as children of this process, on a slurm.conf of their
    /// own (unused ports, every file in a temporary folder); stopped, with any job left, on dispose.</summary>
    sealed class SlurmCluster : IDisposable
    {
        const string Sbin = "/usr/sbin";
        readonly string _dir, _conf;
        readonly List<Process> _daemons = [];

        /// <summary>Why no cluster can start here; null when one can.</summary>
        public static string? Missing()
        {
            if (!OperatingSystem.IsLinux()) return "Slurm runs on Linux";
            if (Environment.UserName != "root") return "starting slurmctld and slurmd needs root (CI runs as root)";
            foreach (var daemon in new[] { "munged", "slurmctld", "slurmd" })
                if (!File.Exists(Path.Combine(Sbin, daemon)))
                    return $"{Sbin}/{daemon} is missing (scripts/setup-linux.sh --with-cluster-tests installs "
                        + "slurm-wlm and munge)";
            foreach (var command in new[] { "sbatch", "scancel", "sinfo" })
                if (!File.Exists(Path.Combine("/usr/bin", command))) return $"/usr/bin/{command} is missing";
            return null;
        }

        public SlurmCluster(string parent)
        {
            _dir = Path.Combine(parent, "cluster");
            Directory.CreateDirectory(Path.Combine(_dir, "state"));
            Directory.CreateDirectory(Path.Combine(_dir, "spool"));
            var key = Path.Combine(_dir, "munge.key");
            File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024));
            if (OperatingSystem.IsLinux())
            {
                // munged checks that everyone may reach its socket's folder and that nobody else may read its key.
                File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
                File.SetUnixFileMode(parent, (UnixFileMode)0b111_101_101);
                File.SetUnixFileMode(key, UnixFileMode.UserRead);
            }
            var socket = Path.Combine(_dir, "munge.sock");
            var host = Dns.GetHostName();
            _conf = Path.Combine(_dir, "slurm.conf");
            File.WriteAllLines(_conf,
            [
                "ClusterName=livecamtest",
                $"SlurmctldHost={host}(127.0.0.1)",
                $"SlurmctldPort={FreePort()}",
                $"SlurmdPort={FreePort()}",
                "AuthType=auth/munge",
                $"AuthInfo=socket={socket}",
                "CredType=cred/munge",
                "SlurmUser=root",
                "SlurmdUser=root",
                $"StateSaveLocation={_dir}/state",
                $"SlurmdSpoolDir={_dir}/spool",
                $"SlurmctldPidFile={_dir}/slurmctld.pid",
                $"SlurmdPidFile={_dir}/slurmd.pid",
                $"SlurmctldLogFile={_dir}/slurmctld.log",
                $"SlurmdLogFile={_dir}/slurmd.log",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "JobCompType=jobcomp/none",
                "MpiDefault=none",
                "ReturnToService=2",
                "KillWait=5",
                $"NodeName={host} NodeAddr=127.0.0.1 CPUs={Environment.ProcessorCount} State=UNKNOWN",
                "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
            ]);
            try
            {
                Daemon("munged", "-F", $"--key-file={key}", $"--socket={socket}", $"--pid-file={_dir}/munged.pid",
                    $"--log-file={_dir}/munged.log", $"--seed-file={_dir}/munged.seed");
                if (!WaitFor(() => File.Exists(socket), TimeSpan.FromSeconds(20)))
                    throw new InvalidOperationException("munged did not start\n" + Logs());
                // -i: no state from an earlier run (there is none: the folder is new).
                Daemon("slurmctld", "-D", "-i");
                Daemon("slurmd", "-D", "-N", host);
                if (!WaitFor(() => Run("sinfo", null, "-h", "-N", "-o", "%T").Text.Trim() == "idle",
                    TimeSpan.FromSeconds(60)))
                    throw new InvalidOperationException("the node never became idle\n" + Logs());
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        void Daemon(string name, params string[] arguments)
        {
            // Their logs go to files of their own (Logs()); what they also print in the foreground is dropped.
            var daemon = Process.Start(Info(Path.Combine(Sbin, name), null, arguments))!;
            daemon.OutputDataReceived += (_, _) => { };
            daemon.ErrorDataReceived += (_, _) => { };
            daemon.BeginOutputReadLine();
            daemon.BeginErrorReadLine();
            _daemons.Add(daemon);
        }

        ProcessStartInfo Info(string file, IDictionary<string, string>? environment, string[] arguments)
        {
            var info = new ProcessStartInfo(file)
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
                WorkingDirectory = _dir,
            };
            foreach (var a in arguments) info.ArgumentList.Add(a);
            info.Environment["SLURM_CONF"] = _conf;
            foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
            return info;
        }

        /// <summary>A Slurm command run to its end: exit code and everything it printed.</summary>
        public (int Code, string Text) Run(string command, IDictionary<string, string>? environment,
            params string[] arguments)
        {
            using var process = Process.Start(Info(command, environment, arguments))!;
            var error = process.StandardError.ReadToEndAsync();
            var text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, text + error.Result);
        }

        public static bool WaitFor(Func<bool> condition, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (condition()) return true;
                Thread.Sleep(250);
            }
            return condition();
        }

        /// <summary>The daemons' logs, for a failure's message.</summary>
        public string Logs() => string.Concat(new[] { "munged.log", "slurmctld.log", "slurmd.log" }
            .Select(f => Path.Combine(_dir, f)).Where(File.Exists)
            .Select(f => $"\n--- {Path.GetFileName(f)}\n" + string.Join('\n', File.ReadLines(f).TakeLast(15))));

        public void Dispose()
        {
            // Jobs first (their steps run outside the daemons' process trees), then the daemons, the last started
            // first.
            if (_daemons.Count == 3) Run("scancel", null, "--full", "--user=root");
            WaitFor(() => Run("squeue", null, "-h").Text.Trim().Length == 0 || _daemons.Count < 3,
                TimeSpan.FromSeconds(15));
            for (int i = _daemons.Count - 1; i >= 0; i--)
            {
                try
                {
                    if (!_daemons[i].HasExited)
                    {
                        _daemons[i].Kill(entireProcessTree: true);
                        _daemons[i].WaitForExit(TimeSpan.FromSeconds(10));
                    }
                }
                catch (InvalidOperationException) { }  // already gone
                _daemons[i].Dispose();
            }
            _daemons.Clear();
        }
    }
}
