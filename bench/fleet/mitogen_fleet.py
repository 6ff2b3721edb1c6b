"""mitogen driving a fleet: N ssh contexts over the given hosts, F at a time
(threads, as mitogen's own docs suggest for parallel connects), each answering one
os.getpid() call. Run by bench/fleet/compare.py, which times the whole process."""
import argparse
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import mitogen.master
import mitogen.utils


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--host', action='append', required=True)
    p.add_argument('--contexts', type=int, required=True)
    p.add_argument('--forks', type=int, required=True)
    p.add_argument('--user', required=True)
    p.add_argument('--identity', required=True)
    p.add_argument('--known-hosts', required=True)
    p.add_argument('--python', required=True)
    args = p.parse_args()
    signal.alarm(300)  # a hang never outlives the run
    broker = mitogen.master.Broker()
    router = mitogen.master.Router(broker)
    ssh_args = ['-i', args.identity, '-o', 'UserKnownHostsFile=' + args.known_hosts]

    def one(index):
        host = args.host[index % len(args.host)]
        context = router.ssh(hostname=host, username=args.user, python_path=args.python,
                             ssh_args=ssh_args, check_host_keys='enforce', connect_timeout=60)
        return context.call(os.getpid)

    try:
        with ThreadPoolExecutor(max_workers=args.forks) as pool:
            pids = list(pool.map(one, range(args.contexts)))
        assert len(set(pids)) == args.contexts, pids
    finally:
        broker.shutdown()
        broker.join()
    sys.stdout.write('%d\n' % len(pids))


if __name__ == '__main__':
    main()
