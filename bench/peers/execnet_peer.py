"""execnet, measured the way bench/pyfleet-bench measures pyfleet: a popen gateway
to /usr/bin/python3.11 and one remote_exec round trip. Timed from Python."""
import time

import execnet
import execnet.gateway_bootstrap
import execnet.gateway_io

import common

SPEC = 'popen//python=%s' % (common.PYTHON,)
TIMEOUT = 30.0


def first_round_trip(gateway):
    channel = gateway.remote_exec('import os; channel.send(os.getpid())')
    return channel.receive(timeout=TIMEOUT)


def spawn(args):
    """makegateway → first remote_exec answered; gateway.exit() is off the clock."""
    samples = []
    for index in range(args.samples + 1):
        start = time.perf_counter()
        gateway = execnet.makegateway(SPEC)
        first_round_trip(gateway)
        elapsed = time.perf_counter() - start
        gateway.exit()
        if index:
            samples.append(elapsed)
    common.emit({'bench': 'spawn', 'unit': 's'}, samples)


def bootstrap_size(args):
    """The argv of a popen gateway plus what its bootstrap writes to stdin. With an
    explicit python= execnet sends the whole gateway_base source uncompressed, as
    it does over ssh (only a popen gateway on the master's own interpreter gets
    away with an import line)."""
    sent = []
    original = execnet.gateway_bootstrap.sendexec

    def sendexec(io, *sources):
        sent.append(len((repr('\n'.join(sources)) + '\n').encode('utf-8')))
        return original(io, *sources)

    execnet.gateway_bootstrap.sendexec = sendexec
    try:
        gateway = execnet.makegateway(SPEC)
        first_round_trip(gateway)
        gateway.exit()
    finally:
        execnet.gateway_bootstrap.sendexec = original
    argv = [common.PYTHON, '-c', execnet.gateway_io.popen_bootstrapline]
    argv_bytes = sum(len(arg.encode()) for arg in argv)
    common.emit_fields({
        'bench': 'bootstrap-size', 'unit': 'bytes', 'argv_bytes': argv_bytes,
        'payload_bytes': sum(sent), 'total': argv_bytes + sum(sent),
        'execnet_version': execnet.__version__,
    })


def main():
    p = common.parser(__doc__)
    sub = p.add_subparsers(dest='command', required=True)
    sub.add_parser('spawn').add_argument('--samples', type=int, default=5)
    sub.add_parser('bootstrap-size')
    args = common.parse(p)
    {'spawn': spawn, 'bootstrap-size': bootstrap_size}[args.command](args)


if __name__ == '__main__':
    main()
