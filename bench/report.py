"""The comparison table: which pooled results each row compares, the ratio in the
target's own terms, and whether the target is met.

A ratio is computed from medians (the typical run) and, in parentheses, from bests
(the least disturbed run). "met" is judged on the median ratio; "best only" says the
target is reached only by the best runs.
"""
import statistics

from plan import BULK_BYTES

KIB = 1024.0
MIB = 1024.0 * 1024.0


class Stat(object):
    """A best and a median; for single numbers (sizes) both are the number."""

    def __init__(self, best, median):
        self.best = best
        self.median = median


def pooled_time(results, key):
    """Every sample of every run of `key`, pooled."""
    runs = results.get(key) or []
    samples = [s for run in runs for s in run['samples']]
    if not samples:
        return None
    return Stat(min(samples), statistics.median(samples))


def pooled_field(results, key, *path):
    """A number reported by every run of `key` (at `path`), median across runs."""
    values = []
    for run in results.get(key) or []:
        value = run
        for part in path:
            value = value[part]
        values.append(value)
    if not values:
        return None
    return Stat(min(values), statistics.median(values))


def faster_fleet_mode(results):
    """mitogen's faster way to start many contexts (threads or sequential)."""
    modes = [(pooled_time(results, 'mitogen.fleet.' + mode), mode)
             for mode in ('threads', 'sequential')]
    modes = [(stat, mode) for stat, mode in modes if stat is not None]
    if not modes:
        return None, 'none'
    return min(modes, key=lambda pair: pair[0].median)


# Row kinds.
AT_MOST_TIMES = 'at most N times the peer (pyfleet / peer)'
AT_LEAST_FASTER = 'at least N times faster (peer / pyfleet)'
AT_LEAST_THROUGHPUT = 'at least N times the throughput (peer time / pyfleet time)'
AT_MOST_BYTES = 'at most N bytes'
AT_MOST_EXTRA_BYTES = 'at most N bytes above the peer'
INFO = 'no target'


class Row(object):
    def __init__(self, metric, ours, theirs, peer, kind, target=None, unit='s'):
        self.metric = metric
        self.ours = ours          # results -> Stat or None
        self.theirs = theirs      # results -> Stat or None
        self.peer = peer          # label, or results -> label
        self.kind = kind
        self.target = target
        self.unit = unit


def time_of(key):
    return lambda results: pooled_time(results, key)


def field_of(key, *path):
    return lambda results: pooled_field(results, key, *path)


def rows():
    bulk_rows = []
    for direction in ('argument', 'result'):
        for transport in ('pipes', 'socketpair'):
            bulk_rows.append(Row(
                '64 MiB %s, %s' % (direction, transport),
                time_of('pyfleet.bulk.%s.%s' % (direction, transport)),
                time_of('raw.bulk.%s.fresh' % direction),
                'raw framed os.pipe, fresh buffer', AT_LEAST_THROUGHPUT, 0.7, unit='throughput'))
        for transport in ('pipes', 'socketpair'):
            bulk_rows.append(Row(
                '64 MiB %s, %s' % (direction, transport),
                time_of('pyfleet.bulk.%s.%s' % (direction, transport)),
                time_of('raw.bulk.%s.reused' % direction),
                'raw framed os.pipe, reused buffer (pipe ceiling)', INFO, unit='throughput'))
        bulk_rows.append(Row(
            '64 MiB %s, socketpair' % direction,
            time_of('pyfleet.bulk.%s.socketpair' % direction),
            time_of('mitogen.bulk.%s' % direction),
            'mitogen', AT_LEAST_FASTER, 3.0, unit='throughput'))

    def compare_times(label, key, peer_key, peer, kind, target=None):
        """A row comparing two pooled timings."""
        return Row(label, time_of(key), time_of(peer_key), peer, kind, target)

    mp = ('mp.rt', 'multiprocessing.Pipe echo', AT_MOST_TIMES, 1.5)
    in_flight_peer = ('mitogen.inflight', 'mitogen call_async ×100', AT_LEAST_FASTER, 3.0)

    return [
        ('1. spawn → first call answered', [
            Row('`-I -S`', time_of('pyfleet.spawn.isolated'), time_of('bare.spawn.isolated'),
                'bare `-I -S -c pass`', AT_MOST_TIMES, 2.0),
            Row('default (site)', time_of('pyfleet.spawn.default'), time_of('mitogen.spawn'),
                'mitogen', AT_LEAST_FASTER, 5.0),
            Row('default (site)', time_of('pyfleet.spawn.default'), time_of('execnet.spawn'),
                'execnet', AT_LEAST_FASTER, 2.0),
            Row('default (site)', time_of('pyfleet.spawn.default'), time_of('bare.spawn.default'),
                'bare `-c pass`', INFO),
            Row('`StartupConfig::system()` preset', time_of('pyfleet.spawn.system'),
                time_of('bare.spawn.isolated'), 'bare `-I -S -c pass`', INFO),
            Row('bare `-I -S -c pass`, timed from Rust', time_of('bare.spawn.isolated'),
                time_of('bare.spawn.isolated.python'), 'same, timed from Python', INFO),
        ]),
        ('2. sequential no-op call round trip', [
            compare_times('current_thread, socketpair', 'pyfleet.rt.current.socketpair', *mp),
            compare_times('current_thread, pipes', 'pyfleet.rt.current.pipes', *mp),
            compare_times('multi_thread in block_on, socketpair', 'pyfleet.rt.multi.socketpair', *mp),
            compare_times('multi_thread in block_on, pipes', 'pyfleet.rt.multi.pipes', *mp),
            compare_times('multi_thread in a task, socketpair',
                       'pyfleet.rt.multi.socketpair.in-task', *mp),
            compare_times('multi_thread in a task, pipes', 'pyfleet.rt.multi.pipes.in-task', *mp),
            compare_times('current_thread, socketpair', 'pyfleet.rt.current.socketpair',
                       'mitogen.rt', 'mitogen', AT_LEAST_FASTER, 5.0),
            compare_times('current_thread, pipes', 'pyfleet.rt.current.pipes',
                       'raw.ping-pong', 'raw os.pipe ping-pong (floor)', INFO),
        ]),
        ('3. 100 no-op calls in flight', [
            compare_times('current_thread, 100 tasks', 'pyfleet.inflight.current.tasks',
                       *in_flight_peer),
            compare_times('current_thread, 100 futures joined', 'pyfleet.inflight.current.joined',
                       *in_flight_peer),
            compare_times('multi_thread, 100 tasks', 'pyfleet.inflight.multi.tasks',
                       *in_flight_peer),
            compare_times('multi_thread, 100 futures joined in a task',
                       'pyfleet.inflight.multi.joined.in-task', *in_flight_peer),
        ]),
        ('4. 64 MiB bytes (throughput)', bulk_rows),
        ('5. 50 local contexts', [
            Row('started concurrently, default (site)', time_of('pyfleet.fleet.default'),
                lambda results: faster_fleet_mode(results)[0],
                lambda results: 'mitogen, %s' % faster_fleet_mode(results)[1],
                AT_LEAST_FASTER, 5.0),
            Row('master RSS growth per context',
                field_of('pyfleet.fleet.default', 'master_rss_growth_per_context', 'median'),
                field_of('mitogen.fleet.threads', 'master_rss_growth_per_context', 'median'),
                'mitogen (threads), for scale', AT_MOST_BYTES, 100 * KIB, unit='bytes'),
            Row('child RSS, `-I -S`',
                field_of('pyfleet.fleet.isolated', 'child_rss', 'median'),
                field_of('bare.rss.isolated', 'median'),
                'bare `-I -S` sleeper', AT_MOST_EXTRA_BYTES, 3 * MIB, unit='bytes'),
            Row('child RSS, default (site)',
                field_of('pyfleet.fleet.default', 'child_rss', 'median'),
                field_of('bare.rss.default', 'median'),
                'bare sleeper (site)', INFO, unit='bytes'),
            Row('child RSS, default (site)',
                field_of('pyfleet.fleet.default', 'child_rss', 'median'),
                field_of('mitogen.fleet.threads', 'child_rss', 'median'),
                'mitogen child', INFO, unit='bytes'),
        ]),
        ('6. bootstrap bytes (argv + stdin before the core runs)', [
            Row('argv + core payload', field_of('pyfleet.bootstrap', 'total'),
                field_of('mitogen.bootstrap', 'total'), 'mitogen',
                AT_MOST_BYTES, 8 * KIB, unit='bytes'),
            Row('argv + core payload', field_of('pyfleet.bootstrap', 'total'),
                field_of('execnet.bootstrap', 'total'), 'execnet', INFO, unit='bytes'),
        ]),
        ('7. through a hop: spawn → first call answered (`-I -S`, test bed)', [
            compare_times('ssh, key login on the loopback sshd', 'pyfleet.hop.ssh',
                          'bare.hop.ssh', 'plain `ssh HOST python3 -I -S -c pass`',
                          AT_MOST_TIMES, 1.3),
            compare_times('ssh, multiplexed, a later context', 'pyfleet.hop.ssh-mux',
                          'bare.hop.ssh-mux', 'plain multiplexed ssh command',
                          AT_MOST_TIMES, 1.3),
            compare_times('sudo to another user', 'pyfleet.hop.sudo', 'bare.hop.sudo',
                          '`sudo -u U python3 -I -S -c pass`', AT_MOST_TIMES, 1.3),
            compare_times('ssh, key login on the loopback sshd', 'pyfleet.hop.ssh',
                          'mitogen.hop.ssh', 'mitogen `router.ssh` + call',
                          AT_LEAST_FASTER, 3.0),
            compare_times('sudo to another user', 'pyfleet.hop.sudo', 'mitogen.hop.sudo',
                          'mitogen `router.sudo` + call', AT_LEAST_FASTER, 3.0),
            compare_times('ssh, multiplexed, a later context', 'pyfleet.hop.ssh-mux',
                          'mitogen.hop.ssh', 'mitogen `router.ssh` + call (no multiplexing)',
                          INFO),
            compare_times('plain `ssh HOST python3 -I -S -c pass`', 'bare.hop.ssh',
                          'mitogen.hop.ssh', 'mitogen `router.ssh` + call (the floor for '
                          'a new connection)', INFO),
        ]),
        ('8. one channel, child → parent (time for the whole batch; ratio = pyfleet throughput / peer)', [
            Row('100 000 × 1 B', time_of('pyfleet.channel.1'), time_of('gipc.channel.1'),
                'gipc (pickle)', AT_LEAST_THROUGHPUT, 1.0, unit='batch'),
            Row('100 000 × 1 B', time_of('pyfleet.channel.1'), time_of('gipc.channel.1.raw'),
                'gipc, raw bytes', INFO, unit='batch'),
            Row('100 000 × 1 B', time_of('pyfleet.channel.1'), time_of('mp.channel.1'),
                'multiprocessing.Pipe send_bytes', INFO, unit='batch'),
            Row('20 000 × 64 KiB', time_of('pyfleet.channel.65536'),
                time_of('gipc.channel.65536'), 'gipc (pickle)', AT_LEAST_THROUGHPUT, 1.0, unit='batch'),
            Row('20 000 × 64 KiB', time_of('pyfleet.channel.65536'),
                time_of('gipc.channel.65536.raw'), 'gipc, raw bytes', INFO, unit='batch'),
            Row('20 000 × 64 KiB', time_of('pyfleet.channel.65536'),
                time_of('mp.channel.65536'), 'multiprocessing.Pipe send_bytes', INFO, unit='batch'),
        ]),
        ('9. fork a warm context → its first call answered', [
            compare_times('one copy', 'pyfleet.fork', 'mp.fork',
                          'multiprocessing fork Process + Pipe round trip', AT_MOST_TIMES, 1.2),
            compare_times('a pool of 20, all answered', 'pyfleet.fork.pool20', 'mp.fork',
                          'one multiprocessing fork, for scale', INFO),
        ]),
    ]


def format_value(stat, unit):
    if stat is None:
        return 'n/a'
    if unit == 'bytes':
        return format_bytes(stat.median)
    if unit == 'throughput':
        return '%s / %s GiB/s' % (gib_per_s(stat.best), gib_per_s(stat.median))
    return '%s / %s' % (format_seconds(stat.best), format_seconds(stat.median))


def gib_per_s(seconds):
    return '%.2f' % (BULK_BYTES / seconds / (1024 * MIB))


def format_seconds(seconds):
    if seconds < 1e-3:
        return '%.1f µs' % (seconds * 1e6)
    if seconds < 1.0:
        return '%.1f ms' % (seconds * 1e3)
    return '%.2f s' % seconds


def format_bytes(count):
    if abs(count) >= MIB:
        return '%.2f MiB' % (count / MIB)
    if abs(count) >= KIB:
        return '%.1f KiB' % (count / KIB)
    return '%d B' % count


def evaluate(row, results):
    """(pyfleet text, peer text, ratio text, target text, met text)."""
    ours = row.ours(results)
    theirs = row.theirs(results)
    ours_text = format_value(ours, row.unit)
    theirs_text = format_value(theirs, row.unit)
    if ours is None or (theirs is None and row.kind != AT_MOST_BYTES):
        return ours_text, theirs_text, 'n/a', target_text(row), 'no data' if row.kind != INFO else ''
    if row.kind == AT_MOST_BYTES:
        ratio = '' if theirs is None else '%.2f×' % (ours.median / theirs.median)
        return ours_text, theirs_text, ratio, target_text(row), yes(ours.median <= row.target)
    if row.kind == AT_MOST_EXTRA_BYTES:
        extra = ours.median - theirs.median
        return (ours_text, theirs_text, '%+.2f MiB' % (extra / MIB), target_text(row),
                yes(extra <= row.target))
    if row.kind == AT_MOST_TIMES or (row.kind == INFO and row.unit not in ('throughput', 'batch')):
        median, best = ours.median / theirs.median, ours.best / theirs.best
        ratio = '%.2f× (%.2f×)' % (median, best)
        if row.kind == INFO:
            return ours_text, theirs_text, ratio, '', ''
        return ours_text, theirs_text, ratio, target_text(row), met(
            median <= row.target, best <= row.target)
    median, best = theirs.median / ours.median, theirs.best / ours.best
    ratio = '%.2f× (%.2f×)' % (median, best)
    if row.kind == INFO:
        return ours_text, theirs_text, ratio, '', ''
    return ours_text, theirs_text, ratio, target_text(row), met(
        median >= row.target, best >= row.target)


def target_text(row):
    if row.kind == AT_MOST_TIMES:
        return '≤ %g×' % row.target
    if row.kind == AT_LEAST_FASTER:
        return '≥ %g× faster' % row.target
    if row.kind == AT_LEAST_THROUGHPUT:
        return '≥ %g× throughput' % row.target
    if row.kind == AT_MOST_BYTES:
        return '≤ %s' % format_bytes(row.target)
    if row.kind == AT_MOST_EXTRA_BYTES:
        return '≤ +%s' % format_bytes(row.target)
    return ''


def yes(flag):
    return 'yes' if flag else '**no**'


def met(on_median, on_best):
    if on_median:
        return 'yes'
    return 'best only' if on_best else '**no**'


LEGEND = (
    'Times: best / median over every sample of every round; throughputs: best / median. '
    'Ratio: pyfleet / peer for "≤ N×" rows and time rows without a target; '
    'peer / pyfleet ("N× faster") for "≥ N× faster" rows; pyfleet throughput / peer '
    'throughput for throughput rows. The first ratio uses medians, the one in '
    'parentheses bests; "met?" is judged on medians ("best only": only the best runs '
    'reach it).'
)


def table(results):
    """The markdown table and a list of row dicts for the JSON file."""
    lines = [
        '| metric | pyfleet | peer / baseline | ratio, median (best) | target | met? |',
        '| --- | --- | --- | --- | --- | --- |',
    ]
    records = []
    for section, section_rows in rows():
        lines.append('| **%s** | | | | | |' % section)
        for row in section_rows:
            peer = row.peer(results) if callable(row.peer) else row.peer
            ours, theirs, ratio, target, verdict = evaluate(row, results)
            lines.append('| %s | %s | %s: %s | %s | %s | %s |' % (
                row.metric, ours, peer, theirs, ratio, target, verdict))
            records.append({
                'section': section, 'metric': row.metric, 'peer': peer, 'pyfleet': ours,
                'baseline': theirs, 'ratio': ratio, 'target': target, 'met': verdict,
            })
    return '\n'.join(lines), records


def notes(results):
    """Lines under the table: the facts a reader needs to pick a configuration."""
    lines = []
    variants = sorted(
        (stat.median, key) for key, stat in
        ((key, pooled_time(results, key)) for key in results if key.startswith('pyfleet.rt.'))
        if stat is not None)
    if variants:
        lines.append('round-trip variants by median: ' + ', '.join(
            '%s %s' % (key[len('pyfleet.rt.'):], format_seconds(median))
            for median, key in variants))
    stat, mode = faster_fleet_mode(results)
    if stat is not None:
        lines.append('mitogen started its 50 contexts fastest with: %s' % mode)
    return lines
