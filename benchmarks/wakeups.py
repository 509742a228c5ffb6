#!/usr/bin/env python3
"""Who wakes whom, on which CPU, and how long the woken thread waits before it runs.

Record during a benchmark, then read the trace:
    perf record -a -e sched:sched_wakeup -e sched:sched_switch -o sched.data -- sleep 1
    perf script -i sched.data -F comm,tid,cpu,time,event,trace > sched.txt
    python3 benchmarks/wakeups.py sched.txt [wakee-comm] [waker-comm]
Defaults: the JMH worker thread ("org.mtcp.benchm", the client in MigrationTimeBenchmark) woken by the I/O loop
("mtcp-io-0"). Each sched_wakeup of the wakee is paired with its next sched_switch in.
"""
import re
import sys

path = sys.argv[1]
wakee = sys.argv[2] if len(sys.argv) > 2 else 'org.mtcp.benchm'
waker_name = sys.argv[3] if len(sys.argv) > 3 else 'mtcp-io-0'
line_re = re.compile(r'\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s+(.*)')
pending = {}
waits = []
for line in open(path):
    m = line_re.match(line)
    if not m:
        continue
    comm, _tid, cpu, t, event, rest = m.groups()
    t = float(t)
    if event == 'sched_wakeup':
        w = re.search(r'comm=(\S+) pid=(\d+).*target_cpu=(\d+)', rest)
        if w and w.group(1) == wakee:
            pending[w.group(2)] = (t, comm, int(cpu) == int(w.group(3)))
    elif event == 'sched_switch':
        n = re.search(r'==>\s*(?:next_comm=)?(\S+?)(?::| next_pid=)(\d+)', rest)
        if n and n.group(2) in pending:
            t0, waker, same_cpu = pending.pop(n.group(2))
            if waker == waker_name:
                waits.append(((t - t0) * 1e6, same_cpu))
if not waits:
    sys.exit('no wake-up of %s by %s in %s' % (wakee, waker_name, path))
us = sorted(w for w, _ in waits)
print('%d wake-ups of %s by %s, %d onto the waker\'s CPU; woken to running, us: p50 %.1f p90 %.1f p99 %.1f mean %.1f'
      % (len(us), wakee, waker_name, sum(1 for _, s in waits if s), us[len(us) // 2], us[int(len(us) * .9)],
         us[int(len(us) * .99)], sum(us) / len(us)))
