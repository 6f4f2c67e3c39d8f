"""Webhook targets on loopback, private and link-local addresses are refused unless allow-listed."""

from __future__ import annotations

import pytest

from processes.webhooks import targets


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/hook",
        "http://10.0.0.1/hook",
        "http://10.255.1.2/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://localhost/hook",
        "http://0.0.0.0/",
        "ftp://example.com/",
        "http://user:pw@93.184.215.14/",
    ],
)
def test_refused(url, settings):
    settings.BATON_WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(targets.Refused):
        targets.check(url)


def test_a_public_address_passes(settings):
    settings.BATON_WEBHOOK_ALLOWED_HOSTS = []
    assert targets.check("https://93.184.215.14/hooks?x=1").path == "/hooks?x=1"


def test_an_allow_listed_host_passes(settings):
    settings.BATON_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "::1"]
    assert targets.check("http://127.0.0.1:9/x").addresses == ("127.0.0.1",)
    assert targets.check("http://[::1]:9/x").addresses == ("::1",)


@pytest.mark.django_db
def test_the_admin_form_refuses_a_private_target(settings, demo_org):
    from processes.admin.webhooks import SubscriptionForm

    settings.BATON_WEBHOOK_ALLOWED_HOSTS = []
    form = SubscriptionForm(data={"name": "x", "url": "http://169.254.169.254/", "event_kinds": "[]"})
    assert not form.is_valid()
    assert "url" in form.errors


def test_no_redirect_is_followed_and_the_answer_is_capped(settings):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302 if self.path == "/redirect" else 200)
            self.send_header("Location", "/elsewhere")
            self.end_headers()
            self.wfile.write(b"x" * 100_000)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.BATON_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.BATON_WEBHOOK_MAX_RESPONSE_BYTES = 1000
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert targets.post(f"{base}/redirect", b"{}", {}).status == 302
        answer = targets.post(f"{base}/ok", b"{}", {})
        assert answer.status == 200 and len(answer.body) == 1000
        assert hits == ["/redirect", "/ok"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_the_admin_form_refuses_unknown_event_kinds(settings, demo_org):
    from processes.admin.webhooks import SubscriptionForm

    settings.BATON_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    form = SubscriptionForm(
        data={"name": "x", "url": "http://127.0.0.1/", "event_kinds": '["closed", "exploded"]'}
    )
    assert not form.is_valid()
    assert "event_kinds" in form.errors
