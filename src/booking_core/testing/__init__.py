"""For other people's test suites (install the `testing` extra): hypothesis strategies for the
domain types and port contracts to run against your own adapters. See docs/architecture.md."""
