"""The fake LLM provider (tests/fixtures/fake_provider/server.py), unchanged but for
its listen backlog.

The fixture listens with a backlog of 128. In the 200-concurrent-sessions run,
agentd opens 200 provider connections within a few milliseconds while the
fixture's single accept loop also starts a thread per connection; a backlog
overflow would make the kernel drop SYNs, and a dropped SYN is retried after one
second, which measures the kernel's retransmission timer instead of agentd. The
benchmark raises the backlog (BENCH_PROVIDER_BACKLOG, default 1024; the kernel
caps it at net.core.somaxconn) and reports the machine's ListenOverflows counter
around that run, so a drop would still show.

usage: same arguments as server.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures", "fake_provider"))

import server  # noqa: E402  (the fixture)

server.FakeProviderServer.request_queue_size = int(os.environ.get("BENCH_PROVIDER_BACKLOG", "1024"))

if __name__ == "__main__":
    sys.exit(server.main())
