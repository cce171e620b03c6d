#!/usr/bin/env python3
"""Interop: two python3-slixmpp (Debian) clients on a real ternd subscribe to each other (slixmpp's own
roster handling: auto-authorize and auto-subscribe), see each other's presence, and exchange a message and
an IQ (XEP-0199 ping between full JIDs). Arguments: TERND TERNCTL. Every wait is bounded.

Runs on TLS 1.3 against a server without -PLUS mechanisms: slixmpp 1.8 only knows tls-unique (see
interop_slixmpp.py)."""
import asyncio
import ssl
import sys
import time

import slixmpp

from ternd_process import running_ternd

ALICE = "alice@localhost"
BOB = "bob@localhost"


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, peer, results):
        super().__init__(jid, password, sasl_mech="SCRAM-SHA-256")
        self.register_plugin("xep_0199")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.ssl_context.maximum_version = ssl.TLSVersion.TLSv1_3
        self.peer = peer
        self.peer_full = None
        self.results = results
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _: self.fail("authentication failed"))
        self.add_event_handler("presence_available", self.on_available)

    def fail(self, why):
        self.results.setdefault("error", f"{self.boundjid.bare}: {why}")

    async def start(self, _):
        await self.get_roster()
        self.send_presence()
        if self.boundjid.bare == ALICE:
            self.send_presence(pto=BOB, ptype="subscribe")

    def on_available(self, presence):
        if presence["from"].bare == self.peer:
            self.peer_full = presence["from"].full
            self.results[f"{self.boundjid.bare} sees {self.peer}"] = True

    def subscription(self):
        return self.client_roster[self.peer]["subscription"] if self.peer in self.client_roster else None


async def scenario(alice, bob, results):
    deadline = time.monotonic() + 20

    async def until(condition, what):
        while not condition():
            if "error" in results:
                raise RuntimeError(results["error"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}: {results}")
            await asyncio.sleep(0.05)

    await until(lambda: alice.peer_full and bob.peer_full, "both to see each other online")
    await until(lambda: alice.subscription() == "both" and bob.subscription() == "both",
                "both rosters to say 'both'")

    received = asyncio.get_running_loop().create_future()
    bob.add_event_handler("message", lambda msg: received.done() or received.set_result(msg))
    alice.send_message(mto=BOB, mbody="hello bob", mtype="chat")
    msg = await asyncio.wait_for(received, timeout=10)
    if msg["body"] != "hello bob" or msg["from"].bare != ALICE:
        raise RuntimeError(f"bob got {msg}")

    # An IQ between full JIDs, answered by bob's client (not by the server).
    rtt = await alice["xep_0199"].ping(jid=alice.peer_full, timeout=10)
    print(f"alice -> {alice.peer_full}: message delivered, ping answered in {rtt * 1000:.1f} ms")


def chat(port):
    results = {}
    alice = Client(ALICE + "/slixmpp", "wonderland", BOB, results)
    bob = Client(BOB + "/slixmpp", "builder", ALICE, results)
    for client in (alice, bob):
        client.connect(address=("127.0.0.1", port), force_starttls=True, disable_starttls=False)
    try:
        alice.loop.run_until_complete(scenario(alice, bob, results))
    finally:
        for client in (alice, bob):
            client.disconnect()
        alice.loop.run_until_complete(asyncio.wait_for(asyncio.gather(alice.disconnected, bob.disconnected), 10))


def main():
    ternd, ternctl = sys.argv[1], sys.argv[2]
    ok = False
    try:
        with running_ternd(ternd, ternctl, {ALICE: "wonderland", BOB: "builder"},
                           ["SCRAM-SHA-256", "SCRAM-SHA-1"]) as server:
            try:
                chat(server.port)
                ok = True
            except Exception as e:  # noqa: BLE001 - any failure is reported with the server's log
                print(f"FAILED: {e}")
                print(server.log())
    except RuntimeError as e:  # ternd did not start
        print(f"FAILED: {e}")
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
