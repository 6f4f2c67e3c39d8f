"""Existing customer data: encrypted in place, and the blind index filled, in batches of raw SQL (the
column held clear text until now, so it is not read through the encrypting field)."""

from django.db import migrations

BATCH = 1000
COLUMNS = ("customer_id", "customer_name", "customer_phone")


def _keys(crypto, customer_id: str, phone: str) -> tuple[str, str]:
    keys = []
    for make, value in ((crypto.customer_id_key, customer_id), (crypto.phone_key, phone)):
        try:
            keys.append(make(value))
        except crypto.Malformed:
            keys.append("")  # kept encrypted, but not findable by a lookup
    return keys[0], keys[1]


def encrypt(apps, schema_editor):
    from processes.customers import crypto

    connection = schema_editor.connection
    qn = connection.ops.quote_name
    table = qn("processes_case")
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, {', '.join(qn(c) for c in COLUMNS)} FROM {table} "  # noqa: S608
                "WHERE id > %s ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            for pk, customer_id, name, phone in rows:
                customer_id, name, phone = customer_id or "", name or "", phone or ""
                id_key, phone_key = _keys(crypto, customer_id, phone)
                cursor.execute(
                    f"UPDATE {table} SET {qn('customer_id')} = %s, {qn('customer_name')} = %s, "  # noqa: S608
                    f"{qn('customer_phone')} = %s, {qn('customer_id_key')} = %s, {qn('customer_phone_key')} = %s "
                    "WHERE id = %s",
                    [
                        crypto.encrypt(customer_id) if customer_id else "",
                        crypto.encrypt(name) if name else "",
                        crypto.encrypt(phone) if phone else "",
                        id_key,
                        phone_key,
                        pk,
                    ],
                )
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def decrypt(apps, schema_editor):
    from processes.customers import crypto

    connection = schema_editor.connection
    qn = connection.ops.quote_name
    table = qn("processes_case")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(qn(c) for c in COLUMNS)} FROM {table}")  # noqa: S608
        for pk, *values in cursor.fetchall():
            clear = [crypto.decrypt(v) if v else "" for v in values]
            cursor.execute(
                f"UPDATE {table} SET {', '.join(f'{qn(c)} = %s' for c in COLUMNS)} WHERE id = %s",  # noqa: S608
                [*clear, pk],
            )


class Migration(migrations.Migration):
    dependencies = [("processes", "0014_customer_data_encrypted")]

    operations = [migrations.RunPython(encrypt, decrypt)]
