using System.Diagnostics;
using System.Text.Json;

namespace LiveCam.App.Tests;

/// <summary>What <c>deploy/</c> holds, checked without a cluster: the Kubernetes Job read by a real YAML parser
/// (Debian's python3-yaml; no Kubernetes schema validator is packaged for Debian 12) and yamllint, and the sbatch
/// script's retry rule run with a stand-in for the app. The script on a real Slurm cluster is
/// <see cref="SlurmClusterTests"/>.</summary>
public sealed class DeployFilesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-deploy-").FullName;

    static string Deploy(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LiveCam.sln")))
                return Path.Combine(dir.FullName, "deploy", name);
        throw new InvalidOperationException($"no LiveCam.sln above {AppContext.BaseDirectory}");
    }

    static (int Code, string Out, string Err) Run(string file, IDictionary<string, string>? environment,
        params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }

    [SkippableFact]
    public void The_kubernetes_job_is_indexed_fails_an_index_on_exit_code_3_and_keeps_its_data_on_a_volume()
    {
        const string python = "/usr/bin/python3";
        Skip.IfNot(File.Exists(python), "needs Debian's python3 and python3-yaml");
        var yaml = Deploy("livecam-reanalyse.yaml");
        var (code, json, error) = Run(python, null, "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", yaml);
        Skip.If(code != 0 && error.Contains("No module named 'yaml'", StringComparison.Ordinal),
            "needs python3-yaml (apt-get install python3-yaml)");
        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(json);
        var job = document.RootElement;
        Assert.Equal("batch/v1", job.GetProperty("apiVersion").GetString());
        Assert.Equal("Job", job.GetProperty("kind").GetString());
        var spec = job.GetProperty("spec");
        Assert.Equal("Indexed", spec.GetProperty("completionMode").GetString());
        Assert.True(spec.GetProperty("completions").GetInt32() > 0);
        Assert.True(spec.GetProperty("parallelism").GetInt32() > 0);
        Assert.True(spec.GetProperty("backoffLimitPerIndex").GetInt32() > 0);
        var pod = spec.GetProperty("template").GetProperty("spec");
        Assert.Equal("Never", pod.GetProperty("restartPolicy").GetString());
        var container = Assert.Single(pod.GetProperty("containers").EnumerateArray());
        var rule = Assert.Single(spec.GetProperty("podFailurePolicy").GetProperty("rules").EnumerateArray(),
            r => r.GetProperty("action").GetString() == "FailIndex");
        var exits = rule.GetProperty("onExitCodes");
        Assert.Equal("In", exits.GetProperty("operator").GetString());
        Assert.Equal([3], exits.GetProperty("values").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(container.GetProperty("name").GetString(), exits.GetProperty("containerName").GetString());

        var volume = Assert.Single(pod.GetProperty("volumes").EnumerateArray());
        Assert.False(string.IsNullOrEmpty(
            volume.GetProperty("persistentVolumeClaim").GetProperty("claimName").GetString()));
        var mount = Assert.Single(container.GetProperty("volumeMounts").EnumerateArray());
        Assert.Equal(volume.GetProperty("name").GetString(), mount.GetProperty("name").GetString());
        var mountPath = mount.GetProperty("mountPath").GetString()!;
        var args = container.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Equal("render", args[0]);
        string After(string option) => args[args.IndexOf(option) + 1];
        Assert.StartsWith(mountPath + "/", After("--manifest"), StringComparison.Ordinal);
        Assert.StartsWith(mountPath + "/", After("--out-dir"), StringComparison.Ordinal);
        Assert.Equal(container.GetProperty("resources").GetProperty("limits").GetProperty("cpu").GetString(),
            After("--threads"));

        // The args as the app's parser reads them: a job that cannot even start an item would fail every index.
        var manifest = After("--manifest");
        var (listed, _, listError) = CliRunner.Invoke(
            [.. args.Select(a => a == manifest ? Path.Combine(_dir, "none.txt") : a), "--list"]);
        Assert.Equal(3, listed);  // only the manifest is missing here: the options themselves parse
        Assert.Contains("cannot read the manifest", listError, StringComparison.Ordinal);

        if (File.Exists("/usr/bin/yamllint"))
        {
            var lint = Run("/usr/bin/yamllint", null, "-d",
                "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}", yaml);
            Assert.True(lint.Code == 0, lint.Out + lint.Err);
        }
    }

    [SkippableTheory]
    [InlineData(0, 1, 0)]
    [InlineData(3, 1, 3)]
    [InlineData(1, 3, 1)]
    public void The_sbatch_script_retries_every_failure_but_bad_input(int exitCode, int calls, int scriptCode)
    {
        Skip.IfNot(File.Exists("/bin/bash"), "needs bash");
        // A stand-in for the app: counts its calls, shows its arguments and ends with the code given.
        var calledFile = Path.Combine(_dir, "calls");
        var fake = Path.Combine(_dir, "fake-livecam");
        File.WriteAllText(fake, $"#!/bin/bash\necho \"$@\" >> '{calledFile}'\nexit {exitCode}\n");
        var (code, _, error) = Run("/bin/bash", new Dictionary<string, string>
        {
            ["LIVECAM"] = $"/bin/bash {fake}",
            ["LIVECAM_MANIFEST"] = "fleet.txt",
            ["LIVECAM_OUT_DIR"] = "out",
            ["LIVECAM_ARGS"] = "--weights new.pt --roi 0,220,400,300",
            ["LIVECAM_ATTEMPTS"] = "3",
            ["LIVECAM_PAUSE"] = "0",
            ["SLURM_ARRAY_TASK_ID"] = "7",
            ["SLURM_CPUS_PER_TASK"] = "2",
        }, Deploy("livecam-reanalyse.sbatch"));
        Assert.Equal(scriptCode, code);
        var called = File.ReadAllLines(calledFile);
        Assert.Equal(calls, called.Length);
        Assert.All(called, line => Assert.Equal(
            "render --manifest fleet.txt --out-dir out --threads 2 --weights new.pt --roi 0,220,400,300", line));
        if (exitCode == 3) Assert.Contains("not retried", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
