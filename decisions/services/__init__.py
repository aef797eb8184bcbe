"""Writes for the decision log (`decisions.services.log`): every status move is logged in the hash
chain (`decisions.chain`)."""

from decisions.services.log import NO_OUTCOME, decision_decide, decision_log, decision_supersede

__all__ = ["NO_OUTCOME", "decision_decide", "decision_log", "decision_supersede"]
