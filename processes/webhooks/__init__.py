"""Outbound webhooks: signed POSTs of case events to the integrations' endpoints.

The change feed is the outbox: a state change writes its timeline events (in its own transaction,
under its lock) and nothing else for webhooks. After commit, `delivery.address_due` follows the feed
from its stored position and makes one `WebhookDelivery` per event and matching subscription (scope
checked there); `delivery.send_due` signs and POSTs each one in a transaction of its own, one case's
events in order.
"""
