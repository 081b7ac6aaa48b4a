"""Per-second probe for benches/simulate.sh: what else ran while the server's frames went late.

Each second it reads the server's underrun counter, and from /proc: each server thread's time on
a CPU and time waiting for one (schedstat), the server's major page faults, every process's CPU
time, the host's steal, the CPUs' idle time, the kernel's pressure stall totals and the page
cache's write-back. When stopped, it prints a line per second, then each second in which underruns
happened in detail next to the median second, so that a bad second shows who had the CPUs and who
was kept waiting.
Usage: python3 benches/probe.py SERVER_PID METRICS_URL BEARER_TOKEN
"""

import os
import signal
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def underruns(url, token):
    """The server's underrun counters by cause: frames sent late, and slots starved of audio."""
    counts = {"late": 0, "starved": 0}
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=0.5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('caly_pacing_underruns_total{cause="'):
                counts[line.split('"')[1]] = int(float(line.split()[-1]))
    return counts


def threads(pid):
    """Each server thread's (name, ns on a CPU, ns runnable but waiting, voluntary switches)."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = (int(x) for x in f.read().split())
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                voluntary = next(int(l.split()[1]) for l in f if l.startswith("voluntary_ctxt_switches"))
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
        found[int(tid)] = (name, run, wait, voluntary)
    return found


def stat(pid):
    """A process's name and the fields of /proc/PID/stat after it (the name may hold spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        line = f.read()
    return line[line.index("(") + 1 : line.rindex(")")], line[line.rindex(")") + 2 :].split()


def processes():
    """Each process's (name, CPU ticks in user and system mode), by pid: a kernel worker's name
    changes with its work, and the server and the simulator are both `caly`."""
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            name, fields = stat(entry)
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks[int(entry)] = (name, int(fields[11]) + int(fields[12]))
    return ticks


def system():
    with open("/proc/stat") as f:
        cpu = f.readline().split()
    pressure = {}
    for resource in ("cpu", "io", "memory"):
        try:
            with open(f"/proc/pressure/{resource}") as f:
                some = f.readline()
            pressure[resource] = int(some.rsplit("total=", 1)[1])
        except FileNotFoundError:
            pressure[resource] = 0
    with open("/proc/vmstat") as f:
        vmstat = dict(line.split() for line in f)
    # Written to block devices (KiB) and dirty in the page cache (pages): write-back is work for
    # the host too.
    # Idle (with I/O wait) beside threads kept waiting for a CPU means the guest's CPUs were
    # not running: the host held them, whether or not it counted steal.
    return {"steal": int(cpu[8]), "idle": int(cpu[4]) + int(cpu[5]), **pressure, "written": int(vmstat["pgpgout"]), "dirty": int(vmstat["nr_dirty"])}


def sample(pid, url, token):
    return {"underruns": underruns(url, token), "threads": threads(pid), "processes": processes(),
            "system": {**system(), "faults": int(stat(pid)[1][9])}}


def delta(now, before):
    threads = {}
    for tid, (name, run, wait, voluntary) in now["threads"].items():
        _, run0, wait0, voluntary0 = before["threads"].get(tid, (name, 0, 0, 0))
        threads[tid] = (name, (run - run0) / 1e6, (wait - wait0) / 1e6, voluntary - voluntary0)
    processes = {
        f"{name}[{pid}]": (ticks - before["processes"].get(pid, (name, 0))[1]) * 1000 / TICK
        for pid, (name, ticks) in now["processes"].items()
    }
    system = {k: v - before["system"][k] for k, v in now["system"].items()}
    system["dirty"] = now["system"]["dirty"] * 4 / 1024
    system["steal"] *= 1000 / TICK
    system["idle"] *= 1000 / TICK
    for k in ("cpu", "io", "memory"):
        system[k] /= 1000
    underruns = {cause: n - before["underruns"][cause] for cause, n in now["underruns"].items()}
    return {"underruns": underruns, "threads": threads, "processes": processes, "system": system}


def report(second, d):
    s = d["system"]
    late, starved = d["underruns"]["late"], d["underruns"]["starved"]
    print(f"second {second}: underruns +{late} late +{starved} starved, steal {s['steal']:.0f} ms, CPUs idle {s['idle']:.0f} ms, "
          f"server major faults {s['faults']}, "
          f"pressure some: cpu {s['cpu']:.0f} io {s['io']:.0f} memory {s['memory']:.0f} ms")
    busiest = sorted(d["threads"].items(), key=lambda t: -(t[1][1] + t[1][2]))[:6]
    print("  server threads (ms on CPU / ms waiting for one / voluntary switches): " + ", ".join(
        f"{name}[{tid}] {run:.0f}/{wait:.0f}/{sw}" for tid, (name, run, wait, sw) in busiest))
    top = sorted(d["processes"].items(), key=lambda p: -p[1])[:6]
    print("  processes (ms on CPU): " + ", ".join(f"{name} {ms:.0f}" for name, ms in top if ms > 0))


def server_cpu(d):
    """The server's CPU time in the second: all its threads' time on a CPU."""
    return sum(run for _, run, _, _ in d["threads"].values())


def simulator(d, server):
    """The simulator's CPU time: the busiest `caly` process that is not the server."""
    return max((ms for name, ms in d["processes"].items() if name.startswith("caly[") and name != server), default=0)


def main():
    pid, url, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    seconds = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    before = sample(pid, url, token)
    next_at = time.monotonic() + 1
    while not stopping:
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += 1
        try:
            now = sample(pid, url, token)
        except (OSError, FileNotFoundError):
            break
        seconds.append(delta(now, before))
        before = now
    if not seconds:
        return
    bad = [(i + 1, d) for i, d in enumerate(seconds) if sum(d["underruns"].values()) > 0]
    busy = sorted(range(len(seconds)), key=lambda i: server_cpu(seconds[i]))
    typical = busy[len(busy) // 2]
    server = f"caly[{pid}]"
    print("second  underruns late/starved  steal ms  cpu/io pressure ms  written MiB  dirty MiB  server/simulator CPU ms")
    for i, d in enumerate(seconds):
        s = d["system"]
        underrun = f"{d['underruns']['late']}/{d['underruns']['starved']}"
        print(f"{i + 1:6}  {underrun:>22}  {s['steal']:8.0f}  {s['cpu']:8.0f}/{s['io']:<9.0f}  {s['written'] / 1024:11.1f}"
              f"  {s['dirty']:9.1f}  {server_cpu(d):.0f}/{simulator(d, server):.0f}")
    print("a typical second (median server CPU), for comparison:")
    report(typical + 1, seconds[typical])
    for second, d in bad[:10]:
        report(second, d)


if __name__ == "__main__":
    main()
