"""Container health check: GET /healthz from gunicorn on this container (the slim image has no curl).

The request must pass the production settings' own gates, or a healthy server would look broken:
- Host: the first concrete name of DJANGO_ALLOWED_HOSTS (Django answers 400 to any other host);
- X-Forwarded-Proto: https, which SECURE_PROXY_SSL_HEADER trusts, so that SECURE_SSL_REDIRECT does
  not answer 301 to this plain-HTTP probe. Exit status 0 is healthy, anything else is not.
"""

import os
import sys
import urllib.request

PORT = os.environ.get("HEALTHCHECK_PORT", "8000")


def allowed_host() -> str:
    for name in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        name = name.strip()
        if name and name != "*":
            # ".example.com" allows example.com and its subdomains.
            return name.lstrip(".")
    return "localhost"


def main() -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/healthz",
        headers={"Host": allowed_host(), "X-Forwarded-Proto": "https"},
    )
    try:
        # A fixed http:// URL to this container, so S310's concern (file:// or custom schemes) is moot.
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except Exception as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
