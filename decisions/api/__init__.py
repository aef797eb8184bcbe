"""The decision log API under /api/v1/."""
