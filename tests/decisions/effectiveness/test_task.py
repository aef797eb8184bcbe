"""The task `decisions.review_effectiveness`: thin (one service call), retry-safe, idempotent, and
scheduled daily under beat after the nightly KPI sweep."""

from celery.schedules import crontab
from django.conf import settings

from decisions.models import Decision, LogEntry
from decisions.tasks import review_effectiveness
from govern.tasking import GovernTask


def test_the_task_reviews_the_decisions_due_on_the_given_day(history):
    # when
    result = review_effectiveness.delay(today="2026-11-01").get()

    # then
    assert result == {
        "reviewed": 4,
        "effective": 2,
        "ineffective": 1,
        "inconclusive": 1,
        "reescalated": 1,
        "decision_ids": [d.pk for d in history.due],
    }
    assert Decision.objects.filter(effectiveness="pending").count() == 1


def test_a_duplicate_delivery_changes_nothing(history):
    # given
    review_effectiveness.delay(today="2026-11-01")
    entries = LogEntry.objects.count()

    # when
    result = review_effectiveness.delay(today="2026-11-01").get()

    # then
    assert result["reviewed"] == 0
    assert LogEntry.objects.count() == entries


def test_the_task_is_named_acks_late_and_retries_with_backoff():
    assert review_effectiveness.name == "decisions.review_effectiveness"
    assert isinstance(review_effectiveness, GovernTask)
    assert review_effectiveness.acks_late is True
    assert review_effectiveness.max_retries == 5
    assert review_effectiveness.retry_backoff == 2


def test_the_review_runs_under_beat_every_night_after_the_sweep():
    # when
    entry = settings.CELERY_BEAT_SCHEDULE["decisions-review-effectiveness-daily"]

    # then
    assert entry["task"] == "decisions.review_effectiveness"
    assert entry["schedule"] == crontab(hour=3, minute=30)
    assert settings.CELERY_BEAT_SCHEDULE["kpis-sweep-nightly"]["schedule"] == crontab(
        hour=2, minute=30
    )
