"""The web service: composition root, JSON API, booking pages, webhooks, CLI."""
