"""CPU time used so far, in milliseconds, read from /proc: `cpu.py process PID` for one
process, `cpu.py postgres DATADIR` for a PostgreSQL server (the postmaster, its live
children, and the children that have ended, which the postmaster has reaped)."""
import os
import sys

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def fields(pid):
    """/proc/PID/stat after the command name (which may hold spaces)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def own(pid):
    f = fields(pid)  # f[11], f[12]: utime, stime; f[13], f[14]: reaped children's
    return int(f[11]) + int(f[12])


def postgres(datadir):
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        master = int(f.readline())
    f = fields(master)
    total = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                child = fields(entry)
            except OSError:
                continue
            if int(child[1]) == master:  # f[1]: the parent's pid
                total += int(child[11]) + int(child[12])
    return total


kind, target = sys.argv[1:3]
ticks = own(int(target)) if kind == "process" else postgres(target)
print(f"{ticks * TICK_MS:.0f}")
