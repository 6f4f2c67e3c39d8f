from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def heartbeat() -> None:
    """Scheduled by beat; proves the path beat → broker → worker → database end to end."""
    from departments.services import heartbeat_record

    heartbeat_record()
