"""Stands in for the host stealing a CPU: during a run of benches/simulate.sh, stops the server's
runtime threads for a moment, eight times two seconds apart, so that the underruns one stall
causes can be counted (benches/probe.py shows them by second).

A thread is stopped alone with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT; SIGSTOP would stop the
whole process) and let go with PTRACE_DETACH. Needs root. `one` stops one of the two runtime
threads at a time, in turn; `both` stops both together.
Usage, beside the bench: python3 benches/freeze_workers.py one|both SECONDS_HELD
"""

import ctypes
import os
import subprocess
import sys
import time

from probe import threads

PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH = 0x4206, 0x4207, 17
WALL = 0x40000000
STALLS = 8
# The server is up and the ramp of the bench's calls is over by then.
START_AFTER = 18

libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def server_pid():
    while True:
        found = subprocess.run(["pgrep", "-f", "release/caly serve"], capture_output=True, text=True).stdout.split()
        if found:
            return int(found[0])
        time.sleep(0.2)


def runtime_threads(pid):
    """The two busiest Tokio threads: the runtime's workers (its blocking threads idle mostly)."""
    busiest = sorted((run, tid) for tid, (name, run, _, _) in threads(pid).items() if name.startswith("tokio"))
    return [tid for _, tid in busiest[-2:]]


def main():
    both, held = sys.argv[1] == "both", float(sys.argv[2])
    pid = server_pid()
    time.sleep(START_AFTER)
    workers = runtime_threads(pid)
    print(f"runtime threads {workers}", flush=True)
    for stall in range(STALLS):
        stopped = workers if both else [workers[stall % 2]]
        for tid in stopped:
            if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
                sys.exit(f"ptrace: {os.strerror(ctypes.get_errno())}")
            libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
        for tid in stopped:
            os.waitpid(tid, WALL)
        time.sleep(held)
        for tid in stopped:
            libc.ptrace(PTRACE_DETACH, tid, None, None)
        time.sleep(2)


if __name__ == "__main__":
    main()
