"""Signals of the plan-version lifecycle, so that `govern` (the foundation) does not import the
apps built on it: they listen and do their share (copy targets, copy contract terms, recompute,
check for target gaming)."""

from django.dispatch import Signal

# Sent inside the transaction that creates a draft from another version, with `plan_version`
# (the new draft) and `based_on` (the version copied), and `actor`. Receivers copy what they
# own into the draft: the KPI targets, the contract terms.
plan_version_drafted = Signal()

# Sent inside the approval's transaction, after the draft became the current version, with
# `plan_version` (now current), `previous` (now superseded, or None) and `actor`. Receivers
# freeze what the previous version held, move live work to the new one and schedule the
# recompute against it.
plan_version_approved = Signal()

# Sent inside the transaction that deletes a draft, before the row goes, with `plan_version` and
# `actor`. Receivers remove what they copied into it (the draft's targets), so a draft made from
# the current version can be thrown away.
plan_version_discarded = Signal()
