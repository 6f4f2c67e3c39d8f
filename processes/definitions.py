"""Process definitions (stages, targets, routes) kept in memory by each process, across calls.

The same rule as the calendars (`departments.snapshot`): a copy belongs to one value of the
configuration stamp, which the state changes read in their locking statement. Editing a stage, a
target or a route changes the stamp (database triggers), so the next state change in any process
loads the definition again. A definition is loaded in four queries the first time it is needed.
"""

from __future__ import annotations

import threading

from departments import snapshot as dept_snapshot
from processes.models import ServiceProcess, Stage, StageTarget, Transition, WebhookSubscription


class Definition:
    def __init__(self, process_id: int, departments: dept_snapshot.Snapshot) -> None:
        # Shared by every case of the process under this stamp: read, never changed.
        self.process = ServiceProcess.objects.get(pk=process_id)
        stages = list(Stage.objects.filter(process_id=process_id).order_by("order", "pk"))
        for stage in stages:
            # Shared, never changed: the department of the same stamp.
            stage.department = departments.department(stage.department_id)
        self.stages = {s.pk: s for s in stages}
        self.by_code = {s.code: s for s in stages}
        self.initial = next((s for s in stages if s.is_initial), None)
        self.targets = {
            (stage_id, priority): (response * 60, resolution * 60)
            for stage_id, priority, response, resolution in StageTarget.objects.filter(
                stage__process_id=process_id
            ).values_list("stage_id", "priority", "response_minutes", "resolution_minutes")
        }
        routes = list(
            Transition.objects.filter(process_id=process_id)
            .order_by("to_stage__order", "pk")
            .values_list("from_stage_id", "to_stage_id")
        )
        self.routes = set(routes)
        self._callbacks: dict[int, Stage | None] = {}
        for from_id, to_id in routes:
            to = self.stages.get(to_id)
            if to is not None and to.is_final and to_id != from_id:
                self._callbacks.setdefault(from_id, to)

    def stage(self, stage_id: int) -> Stage:
        return self.stages[stage_id]

    def callback(self, resolved_stage_id: int) -> Stage | None:
        """The final stage a resolution at this stage routes to (the call-back), if any."""
        return self._callbacks.get(resolved_stage_id)


class _Cache:
    def __init__(self, stamp: int | None) -> None:
        self.stamp = stamp
        self.definitions: dict[int, Definition] = {}
        self.by_code: dict[str, ServiceProcess] | None = None
        self.webhooks: bool | None = None
        self.lock = threading.Lock()


_cache = _Cache(None)


def _for(stamp: int) -> _Cache:
    global _cache
    cache = _cache
    if cache.stamp != stamp:
        cache = _Cache(stamp)
        _cache = cache
    return cache


def process_by_code(code: str, stamp: int | None) -> ServiceProcess | None:
    """The process with this code (an intake names it), from memory under the stamp."""
    if stamp is None:
        return ServiceProcess.objects.filter(code=code).first()
    cache = _for(stamp)
    if cache.by_code is None:
        cache.by_code = {p.code: p for p in ServiceProcess.objects.all()}
    return cache.by_code.get(code)


def webhooks_wanted(stamp: int | None) -> bool:
    """Whether any webhook subscription is active (subscriptions change the stamp too): a state
    change nudges webhook delivery only then."""
    if stamp is None:
        return WebhookSubscription.objects.filter(is_active=True).exists()
    cache = _for(stamp)
    if cache.webhooks is None:
        cache.webhooks = WebhookSubscription.objects.filter(is_active=True).exists()
    return cache.webhooks


def definition(process_id: int, stamp: int | None) -> Definition:
    departments = dept_snapshot.snapshot(stamp)
    if stamp is None:
        return Definition(process_id, departments)
    cache = _for(stamp)
    found = cache.definitions.get(process_id)
    if found is None:
        found = Definition(process_id, departments)
        with cache.lock:
            cache.definitions[process_id] = found
    return found
