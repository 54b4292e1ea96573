"""Signals crm sends so higher apps can react without crm knowing them (DESIGN §2)."""

from django.dispatch import Signal

# Sent after commit when a prospect became a client; kwargs: restaurant, by.
restaurant_converted = Signal()
