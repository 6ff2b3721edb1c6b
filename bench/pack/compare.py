"""Start-up of one app packed four ways, side by side with a warm directory.

Apps (both built in bench/pack/.work):
  repo   click's own example "repo" (examples/repo/repo.py from the click 8.1.7
         sdist on PyPI: a git-like CLI with a command group) on click 8.1.7; a
         run is `repo --help`, which imports click (about 9,600 lines of Python)
         and the app, builds the command tree and formats the help.
  hello  one module printing a line.

Runners, every one on /usr/bin/python3.11:
  directory  `python3.11 -I DIR` on the installed app, __pycache__ warm
  pyfleet    the pack, PYFLEET_PACK_PYTHON pinning the same interpreter
  zipapp     `python -m zipapp` of the same directory (shebang `python3.11 -I`)
  shiv       shiv, warm (its first run extracted to ~/.shiv)
  pex        pex, default layout, warm (its first run filled ~/.pex)

Timing: rounds interleave the runners (so load from elsewhere hits all of them
alike); each round runs every command RUNS times; the table shows the median
and the ratio to the directory run of the same app.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3.11"
CLICK = "click==8.1.7"


def sh(*cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def count_lines(root):
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as f:
                    total += f.read().count(b"\n")
    return total


def prepare_sources(work):
    """app dir (code + requirements.txt) and site dir (installed, with __main__)."""
    apps = {}
    sdist_dir = os.path.join(work, "sdist")
    if not os.path.isdir(sdist_dir):
        sh(PYTHON, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
           CLICK, "-d", sdist_dir)
    tarball = [n for n in os.listdir(sdist_dir) if n.endswith(".tar.gz")][0]
    with tarfile.open(os.path.join(sdist_dir, tarball)) as tar:
        member = [m for m in tar.getmembers() if m.name.endswith("examples/repo/repo.py")][0]
        repo_source = tar.extractfile(member).read().decode()
    sources = {
        "repo": ("repo", "cli", repo_source, [CLICK], ["--help"]),
        "hello": ("hello", "main", "def main():\n    print('hello')\n", [], []),
    }
    for name, (module, function, code, requirements, args) in sources.items():
        base = os.path.join(work, name)
        app = os.path.join(base, "app")
        site = os.path.join(base, "site")
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(app)
        with open(os.path.join(app, module + ".py"), "w") as f:
            f.write(code)
        if requirements:
            with open(os.path.join(app, "requirements.txt"), "w") as f:
                f.write("\n".join(requirements) + "\n")
            sh(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--target", site, *requirements)
        os.makedirs(site, exist_ok=True)
        shutil.copy(os.path.join(app, module + ".py"), site)
        with open(os.path.join(site, "__main__.py"), "w") as f:
            f.write("import sys\nfrom %s import %s\nsys.exit(%s())\n" % (module, function, function))
        apps[name] = dict(base=base, app=app, site=site, module=module, function=function,
                          requirements=requirements, args=args, lines=count_lines(site))
    return apps


def build(apps, pyfleet, venv):
    for name, a in apps.items():
        base, entry = a["base"], "%s:%s" % (a["module"], a["function"])
        a["pyfleet"] = os.path.join(base, name + ".pyfleet")
        sh(pyfleet, "pack", a["app"], "--entry", entry, "-o", a["pyfleet"], "--python", PYTHON,
           stderr=subprocess.DEVNULL)
        a["zipapp"] = os.path.join(base, name + ".pyz")
        sh(PYTHON, "-m", "zipapp", a["site"], "-o", a["zipapp"], "-p", PYTHON + " -I")
        a["shiv"] = os.path.join(base, name + ".shiv")
        sh(os.path.join(venv, "bin", "shiv"), "--quiet", "--site-packages", a["app"], "-e", entry,
           "-o", a["shiv"], "-p", PYTHON + " -sE", "--reproducible",
           *(a["requirements"] or ["-r", os.devnull]))
        a["pex"] = os.path.join(base, name + ".pex")
        sh(os.path.join(venv, "bin", "pex"), "-D", a["app"], "-e", entry, "-o", a["pex"],
           "--python", PYTHON, "--python-shebang", PYTHON, *a["requirements"])
        a["commands"] = {
            "directory": [PYTHON, "-I", a["site"]] + a["args"],
            "pyfleet": [a["pyfleet"]] + a["args"],
            "zipapp": [a["zipapp"]] + a["args"],
            "shiv": [a["shiv"]] + a["args"],
            "pex": [a["pex"]] + a["args"],
        }
        a["sizes"] = {
            "directory": sum(os.path.getsize(os.path.join(d, f))
                             for d, _, fs in os.walk(a["site"]) for f in fs
                             if not f.endswith(".pyc")),
            "pyfleet": os.path.getsize(a["pyfleet"]),
            "zipapp": os.path.getsize(a["zipapp"]),
            "shiv": os.path.getsize(a["shiv"]),
            "pex": os.path.getsize(a["pex"]),
        }


def run_once(cmd, env):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyfleet", required=True)
    parser.add_argument("--venv", required=True)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    rounds, runs = (2, 10) if options.quick else (5, 20)
    work = os.path.join(HERE, ".work")
    os.makedirs(work, exist_ok=True)
    apps = prepare_sources(work)
    build(apps, options.pyfleet, options.venv)
    env = dict(os.environ, PYFLEET_PACK_PYTHON=PYTHON)
    for key in [k for k in env if k.startswith("PYTHON")]:
        del env[key]
    samples = {(a, r): [] for a in apps for r in apps[a]["commands"]}
    for a in apps.values():  # warm: caches, extraction, __pycache__
        for cmd in a["commands"].values():
            for _ in range(3):
                run_once(cmd, env)
    for _ in range(rounds):
        for name, a in apps.items():
            for runner, cmd in a["commands"].items():
                for _ in range(runs):
                    samples[(name, runner)].append(run_once(cmd, env))
    print("| app | runner | median start (ms) | vs directory | size (KiB) |")
    print("|---|---|---|---|---|")
    for name, a in apps.items():
        base = statistics.median(samples[(name, "directory")])
        for runner in a["commands"]:
            median = statistics.median(samples[(name, runner)])
            size = a["sizes"][runner] / 1024
            print("| %s (%d lines) | %s | %.1f | %.2f× | %.0f |" % (
                name, a["lines"], runner, median * 1000, median / base, size))
    print()
    print("%d rounds x %d runs per command, interleaved; load average %s" % (
        rounds, runs, " ".join("%.1f" % x for x in os.getloadavg())))


main()
