"""Re-encrypt every case's customer data under the newest key of BATON_CUSTOMER_KEYS.

Put the new key first in BATON_CUSTOMER_KEYS (keeping the old ones after it), restart, run this, then
drop the old keys. Batches of rows by primary key, each batch in its own transaction; a row already
under the newest key is left alone, so a rerun after an interruption carries on where it stopped. The
blind index has its own key and does not change.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from tqdm import tqdm

from processes.customers import crypto
from processes.models import Case

COLUMNS = ("customer_id", "customer_name", "customer_phone", "customer_email")


def rotate_batch(after: int, size: int) -> tuple[int, int, int]:
    """(last id, rows read, rows rewritten) of one batch, read and written as raw tokens."""
    qn = connection.ops.quote_name
    table = qn(Case._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
        cursor.execute(
            f"SELECT id, {', '.join(qn(c) for c in COLUMNS)} FROM {table} "  # noqa: S608 (names from the model)
            f"WHERE id > %s ORDER BY id LIMIT %s{lock}",
            [after, size],
        )
        rows = cursor.fetchall()
        rewritten = 0
        for pk, *tokens in rows:
            if all(not t or crypto.is_current(t) for t in tokens):
                continue
            cursor.execute(
                f"UPDATE {table} SET {', '.join(f'{qn(c)} = %s' for c in COLUMNS)} WHERE id = %s",  # noqa: S608
                [*(crypto.rotate(t) if t else t for t in tokens), pk],
            )
            rewritten += 1
    return (rows[-1][0] if rows else after), len(rows), rewritten


class Command(BaseCommand):
    help = "Re-encrypt customer data under the newest key of BATON_CUSTOMER_KEYS, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, batch: int, **options):
        total = Case.objects.count()
        last = rewritten = 0
        with tqdm(total=total, unit="case", disable=options["verbosity"] == 0, file=self.stderr) as bar:
            while True:
                last, read, changed = rotate_batch(last, batch)
                rewritten += changed
                bar.update(read)
                if read < batch:
                    break
        self.stdout.write(f"{rewritten} of {total} cases re-encrypted under the newest key.")
