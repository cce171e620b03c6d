"""The real ternd for the slixmpp interop tests: a temporary config and data dir on a free loopback port,
accounts made with the real ternctl, and the server's log kept for failure reports. Every wait is bounded."""
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ternd:
    def __init__(self, port, log):
        self.port = port
        self._log = log

    def log(self):
        self._log.seek(0)
        return self._log.read()


@contextlib.contextmanager
def running_ternd(ternd, ternctl, accounts, mechanisms):
    """accounts: {bare JID: password}; mechanisms: the SASL mechanisms to offer, in order (None: the default)."""
    with tempfile.TemporaryDirectory(prefix="tern-interop-") as tmp:
        port = free_port()
        config = os.path.join(tmp, "tern.toml")
        with open(config, "w") as f:
            f.write(f'[server]\ndomains = ["localhost"]\ndata_dir = "{tmp}/data"\nlog_level = "debug"\n'
                    f'[c2s]\nlisten = ["127.0.0.1:{port}"]\ndirect_tls = []\n')
            if mechanisms is not None:
                f.write(f'[sasl]\nmechanisms = {json.dumps(mechanisms)}\n')
        for jid, password in accounts.items():
            subprocess.run([ternctl, "--config", config, "adduser", jid], input=(password + "\n").encode(),
                           check=True, timeout=30)
        with open(os.path.join(tmp, "ternd.log"), "w+") as log:
            server = subprocess.Popen([ternd, "--config", config], stdout=log, stderr=log)
            try:
                running = Ternd(port, log)
                deadline = time.monotonic() + 15
                while "event=ternd.ready" not in running.log():
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("ternd did not start:\n" + running.log())
                    time.sleep(0.02)
                yield running
            finally:
                server.terminate()
                server.wait(timeout=10)
