"""What each built-in KPI counts, in the words staff read on the scorecard's definitions page. The
same rules as evaluations/kpis.py computes them; the quality office's own description of a KPI, when
it has written one, is shown beside these."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from evaluations.models import Kpi

DEFINITIONS = {
    Kpi.Code.RESPONSE_SLA_RATE: _(
        "Of the handoffs the department received in the period whose response is decided, the share "
        "accepted (or returned) within the response target and never marked as breached. Handoffs "
        "still pending before their response due time are left out."
    ),
    Kpi.Code.RESOLUTION_SLA_RATE: _(
        "Of the handoffs received in the period whose resolution is decided, the share completed "
        "within the resolution target. Pauses waiting on the customer or an outside party move the "
        "due time and never count against the department."
    ),
    Kpi.Code.MEDIAN_MINUTES_TO_ACCEPT: _(
        "The median business minutes between a handoff's arrival and its acceptance, over the handoffs "
        "received in the period and accepted, in the receiving department's calendar."
    ),
    Kpi.Code.P90_MINUTES_TO_ACCEPT: _(
        "The business minutes within which nine in ten of the accepted handoffs received in the "
        "period were accepted: the slow tail that the median hides."
    ),
    Kpi.Code.BOUNCE_RATE: _(
        "The share of handoffs received in the period that the department returned to their sender. "
        "A bounce is charged to the department that returned the handoff."
    ),
    Kpi.Code.REOPEN_RATE: _(
        "Reopenings in the period charged to the department that resolved the case, divided by the "
        "cases the department resolved in the same period."
    ),
    Kpi.Code.REPEAT_COMPLAINT_RATE: _(
        "Of the cases the department took in during the period, the share flagged as a repeat "
        "complaint: the same customer (phone or customer number) had a case of the same process "
        "within the process's repeat window."
    ),
    Kpi.Code.CSAT_AVG: _(
        "The mean customer satisfaction (1–5) of the surveys answered in the period, for every "
        "department that received a handoff of the case."
    ),
    Kpi.Code.NPS: _(
        "100 × (promoters − detractors) / answers, from the surveys answered in the period: "
        "promoters answered 9–10, detractors 0–6."
    ),
    Kpi.Code.QA_SCORE: _(
        "The mean inspection score (0–100) of the department's cases resolved in the period, each "
        "level (self-check, department check, quality-office check) weighted as the scorecard says."
    ),
    Kpi.Code.VOLUME: _(
        "The number of handoffs the department received in the period. It has no target: it is shown "
        "for context and never scored."
    ),
}
