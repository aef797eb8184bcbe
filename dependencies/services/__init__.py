"""Writes: contracts and their lifecycle, amendments and versions, health, the ripple sync."""
