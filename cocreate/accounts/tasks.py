"""Background jobs of accounts: the e-mails that anyone can cause by typing someone's address.

A registration with a taken address and a password-reset request only queue one of these, whatever
the address, so the request takes as long for a registered address as for an unknown one; the worker
looks the address up and sends within the address's allowance (:mod:`cocreate.accounts.throttle`). A
task lost on the way (the broker unreachable at commit) sends nothing: the person asks again.
"""

from __future__ import annotations

from cocreate.accounts import data_export, services
from cocreate.tasks.app import celery_app, task_database, task_settings


@celery_app.task(name=services.ALREADY_REGISTERED_TASK, bind=True, max_retries=5, default_retry_delay=30)
def tell_already_registered(self, user_id: int) -> bool:  # type: ignore[no-untyped-def]
    try:
        with task_database().session() as session:
            return services.tell_already_registered(session, task_settings(), user_id)
    except Exception as error:  # a database hiccup: nothing was committed, try again later
        raise self.retry(exc=error) from error


@celery_app.task(name=services.RESET_LINK_TASK, bind=True, max_retries=5, default_retry_delay=30)
def send_reset_link(self, email: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        with task_database().session() as session:
            return services.send_reset_link(session, task_settings(), email)
    except Exception as error:  # a database hiccup: nothing was committed, try again later
        raise self.retry(exc=error) from error


@celery_app.task(name=data_export.BUILD_TASK, bind=True, max_retries=5, default_retry_delay=60)
def build_data_export(self, export_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Build one "download my data" zip and mail its link (:func:`cocreate.accounts.data_export.build`)."""
    try:
        with task_database().session() as session:
            return data_export.build(session, task_settings(), export_id)
    except Exception as error:  # a database hiccup or a full disk: nothing was marked ready, try again later
        raise self.retry(exc=error) from error


@celery_app.task(name=data_export.EXPIRE_TASK)
def expire_data_exports() -> int:
    """Delete the zips whose links have expired (:func:`cocreate.accounts.data_export.expire_due`)."""
    with task_database().session() as session:
        return data_export.expire_due(session, task_settings())
