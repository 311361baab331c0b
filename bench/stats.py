"""Shared statistics and timing for the benchmarks (bench/<name>/run).

The project's rule: tools run in the same session, interleaved, several rounds; each round
gives a ratio (peer over duplex); the report gives the median ratio and its 95 % bootstrap
confidence interval, and a target counts as met only when the interval's lower end reaches it.

  sys.path.insert(0, str(ROOT / "bench")); import stats
  m = stats.measure(["nmap", ...])          # m.wall, m.cpu, m.stdout, m.returncode
  ci = stats.bootstrap_ci([1.9, 2.1, 2.2])  # (median, low, high)
  stats.meets(ci, 2.0)                      # False: the low end is below 2.0
"""
import random
import resource
import signal
import statistics
import subprocess
import time
from dataclasses import dataclass

SEED = 14  # fixed: the same ratios always give the same interval
RESAMPLES = 10000


def bootstrap_ci(values, level=0.95, resamples=RESAMPLES, seed=SEED):
    """(median, low, high): the median of `values` and the percentile bootstrap interval of
    the median (resampling `values` with replacement). With few rounds the interval can be
    no narrower than the spread of the middle values: run more rounds to narrow it."""
    values = list(values)
    if not values:
        raise ValueError("bootstrap_ci needs at least one value")
    rng = random.Random(seed)
    n = len(values)
    medians = sorted(statistics.median(rng.choices(values, k=n)) for _ in range(resamples))
    tail = (1 - level) / 2
    low = medians[int(tail * (resamples - 1))]
    high = medians[int(round((1 - tail) * (resamples - 1)))]
    return statistics.median(values), low, high


def meets(ci, target):
    """True when the interval's lower end reaches `target` (a median alone never does)."""
    return ci[1] >= target


def format_ci(ci, digits=2):
    """'2.17 (2.08-2.22)'"""
    return f"{ci[0]:.{digits}f} ({ci[1]:.{digits}f}-{ci[2]:.{digits}f})"


@dataclass
class Measurement:
    wall: float  # seconds, by the monotonic clock around the run
    cpu: float  # user + system seconds of the process and every child it waited for
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure(args, timeout=900, interrupt_grace=None):
    """Runs `args` to the end and returns its wall time and CPU time (from the resource usage
    of children, so the caller must not run other children at the same time). After
    `timeout` s it is killed (timed_out, returncode -9); with `interrupt_grace`, it gets a
    SIGINT first and that many seconds to write out what it found."""
    cpu0 = _children_cpu()
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        if interrupt_grace is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=interrupt_grace)
            except subprocess.TimeoutExpired:
                pass
        proc.kill()  # nothing if the SIGINT ended it
        out, err = proc.communicate()
    wall = time.monotonic() - start
    code = -9 if timed_out else proc.returncode
    return Measurement(wall, _children_cpu() - cpu0, code, out, err, timed_out)


def cpu_busy_fraction(interval=0.5):
    """Share of all CPUs busy over `interval` seconds, from /proc/stat."""
    def sample():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(f), f[3] + f[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(max_wait):
    """Waits (at most max_wait s) until the machine is idle between runs: other engineers'
    builds share these cores, and a run that has to share its core measures the sharing."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        if cpu_busy_fraction() < 0.05:
            return True
    return False
