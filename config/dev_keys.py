"""Development keys for customer data, kept in var/customer_keys.json (gitignored)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path


def development_customer_keys(var_dir: Path) -> tuple[list[str], str]:
    from cryptography.fernet import Fernet

    path = Path(var_dir) / "customer_keys.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"keys": [Fernet.generate_key().decode()], "index_key": secrets.token_urlsafe(32)}
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    data = json.loads(path.read_text())
    return list(data["keys"]), data["index_key"]
