"""Pure computation on the dependency graph and contract health: no ORM, no I/O."""
