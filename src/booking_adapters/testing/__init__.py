"""Local stand-ins for outside services (fake Stripe, fake Cal.com) that speak their published
APIs: for tests and benchmarks."""
