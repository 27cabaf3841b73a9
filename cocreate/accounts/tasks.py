"""Background jobs of accounts: the e-mails that anyone can cause by typing someone's address.

A registration with a taken address and a password-reset request only queue one of these, whatever
the address, so the request takes as long for a registered address as for an unknown one; the worker
looks the address up and sends within the address's allowance (:mod:`cocreate.accounts.throttle`). A
task lost on the way (the broker unreachable at commit) sends nothing: the person asks again.
"""

from __future__ import annotations

from cocreate.accounts import services
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
