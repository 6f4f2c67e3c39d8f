"""Improvement reviews (PDCA), a sub-package of the `evaluations` app (same app label, tables and
migrations): models, services (cycles, runs, actions, reminders), selectors, policy, findings, e-mails,
forms, admin, API and demo data. See docs/architecture.md."""
