"""The base every Govern task shares: late acks, bounded retries with backoff and jitter, and
`delay_on_commit` so work is only queued once the transaction that asked for it has committed."""

from __future__ import annotations

from celery.contrib.django.task import DjangoTask
from django.db import DatabaseError, InterfaceError, OperationalError


class GovernTask(DjangoTask):
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (OperationalError, InterfaceError, DatabaseError)
    max_retries = 5
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
