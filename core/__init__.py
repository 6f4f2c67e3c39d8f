"""The bottom of the dependency order: what every app shares and nothing domain-specific. The domain
error types, the API's plumbing (exception handler, pagination, parsers, filters base, URL converters),
one code -> message table, small text helpers and the periodic-task schedule. `core` imports no other
app of the project; see docs/architecture.md."""
