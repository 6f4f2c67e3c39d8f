"""The customer of a case: personal data encrypted at rest, found again through a keyed hash (a blind
index), the caller's other cases, repeat complaints and the messages the bank sends the customer."""
