"""Adapters: one module (or subpackage) per outside system, each implementing booking_core's ports."""
