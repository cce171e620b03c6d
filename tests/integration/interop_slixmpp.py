#!/usr/bin/env python3
"""Interop: python3-slixmpp (Debian) logs in to a real ternd with SCRAM over STARTTLS, binds, and exchanges
a message and a ping with the server. Arguments: TERND TERNCTL. Every wait is bounded.

slixmpp 1.8 knows only the tls-unique channel binding, which RFC 9266 forbids on TLS 1.3, and it sends the
SCRAM "y" flag whenever it has binding data but picked a non-PLUS mechanism. The scenarios: TLS 1.2 with its
own choice (SCRAM-SHA-256-PLUS over tls-unique), TLS 1.3 with the default configuration (its "y" flag is
accepted because tls-unique, the only binding it knows, is undefined there: README, Security notes), and
TLS 1.3 against a server configured without -PLUS mechanisms (where "y" is no downgrade at all)."""
import asyncio
import ssl
import sys

import slixmpp

from ternd_process import running_ternd


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mechanism, tls_version):
        super().__init__(jid, password, sasl_mech=mechanism)
        self.register_plugin("xep_0199")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.ssl_context.maximum_version = tls_version
        self.mechanism_used = None
        self.add_event_handler("auth_success", lambda _: setattr(self, "mechanism_used", self["feature_mechanisms"].mech.name))
        self.outcome = None
        self.add_event_handler("session_start", self.start)
        # slixmpp retries with its next mechanism after a failure; it gives up with failed_all_auth.
        self.add_event_handler("failed_all_auth", lambda _: self.finish("authentication failed"))
        self.add_event_handler("message", self.on_message)

    async def start(self, _):
        if self.boundjid.bare != "alice@localhost" or not self.boundjid.resource:
            return self.finish(f"unexpected bound JID {self.boundjid}")
        await self["xep_0199"].ping(jid="localhost", timeout=5)
        self.send_message(mto=self.boundjid.full, mbody="hello from slixmpp", mtype="chat")

    def on_message(self, msg):
        if msg["body"] == "hello from slixmpp" and msg["from"] == self.boundjid.full:
            self.finish("ok")

    def finish(self, outcome):
        if self.outcome is None:
            self.outcome = outcome
            self.disconnect()


def login(port, mechanism, tls_version):
    client = Client("alice@localhost/slixmpp", "wonderland", mechanism, tls_version)
    client.connect(address=("127.0.0.1", port), force_starttls=True, disable_starttls=False)
    client.loop.run_until_complete(asyncio.wait_for(client.disconnected, timeout=20))
    return client.outcome, client.mechanism_used


def run_scenario(ternd, ternctl, mechanisms, mechanism, tls_version, expected_mechanism):
    with running_ternd(ternd, ternctl, {"alice@localhost": "wonderland"}, mechanisms) as server:
        outcome, used = login(server.port, mechanism, tls_version)
        ok = outcome == "ok" and used == expected_mechanism
        print(f"{tls_version.name} {used}: {outcome}")
        if not ok:
            print(server.log())
        return ok


def main():
    ternd, ternctl = sys.argv[1], sys.argv[2]
    all_mechanisms = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
    without_plus = ["SCRAM-SHA-256", "SCRAM-SHA-1"]
    results = [
        run_scenario(ternd, ternctl, all_mechanisms, None, ssl.TLSVersion.TLSv1_2, "SCRAM-SHA-256-PLUS"),
        # The default configuration over TLS 1.3 (Debian 12's Poezio setup): slixmpp's "y" flag is accepted,
        # since the only binding it knows, tls-unique, is undefined there (README, Security notes).
        run_scenario(ternd, ternctl, None, None, ssl.TLSVersion.TLSv1_3, "SCRAM-SHA-256"),
        run_scenario(ternd, ternctl, without_plus, "SCRAM-SHA-1", ssl.TLSVersion.TLSv1_3, "SCRAM-SHA-1"),
        run_scenario(ternd, ternctl, without_plus, None, ssl.TLSVersion.TLSv1_3, "SCRAM-SHA-256"),
    ]
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
