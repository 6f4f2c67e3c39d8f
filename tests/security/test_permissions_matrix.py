"""The permissions matrix: every admin page and every API
endpoint, for each demo role (departments/demo.py).

The state, built once for the module through the services (and rolled back at the end):

- case A: a COMPLAINT the call center took in and forwarded to the card center, where
  card_center_agent accepted it (the open handoff is theirs);
- case B: a COMPLAINT the call center forwarded to retail lending: never at the card center;
- case C: a COMPLAINT the card center resolved (the call-back waits at the call center); it carries
  the customer feedback and an assigned department-level inspection of the card center;
- a monthly review cycle of CALL_CENTER and CARD_CENTER run for last month (its evaluations), and an
  improvement action of the card center, decided by card_center_lead, owned by card_center_agent.

The roles: card_center_agent ("agent"), card_center_lead ("lead"), risk_agent ("other": none of the
cases ever passed through RISK), quality_officer ("officer"), auditor, call_center_agent's API token
("token", as an integration sends it: `Authorization: Token …`) and nobody ("anon"). Staff reach the
API with their admin session (token and session authentication).

The expectations below are tables written by hand from the product rules and the role groups'
promises (departments/roles.py), never computed from the code under test. A page or an endpoint the
tables do not know makes `test_the_matrix_knows_every_*` fail, naming it: give it its row.

Cells:
  200 201 400 401 403 404 405 409  that HTTP status
  login    302 to the admin's login page
  home     302 to the admin index (the login page, for someone logged in already)
  gone     302 to the admin index: Django's "does not exist" answer for an object outside the user's
           list (the admin's get_queryset is scoped); nothing about the object is shown
  case     302 to the case's page (a handoff's admin page is its case's page)
  mine     302 to the improvement actions filtered on "my actions"
  ok       a case-page action: back to the case page with a success message
  refused  a case-page action: back to the case page with an error message, nothing changed

On top of the statuses, every 2xx answer is searched for what its reader must never see: the
reference and title of a case outside their departments, and (everyone but the quality office)
a customer's unmasked name, phone number and id.
"""

from __future__ import annotations

import json
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from departments.models import AuditEntry, BusinessCalendar, Department, Heartbeat, Membership, UserSettings
from departments.roles import STAFF
from processes.forms import ACTION_FORMS
from processes.models import Case, CaseEvent, Handoff, Notification, NotificationPreference, Stage
from processes.outbox import deliver_due

# Every test is a savepoint inside the module's seeded transaction (pytest-django supports wrapping
# tests in a higher-scoped transaction); the marker also makes pytest-django create the test database.
pytestmark = pytest.mark.django_db

# ====================================================================================================
# The tables
# ====================================================================================================
ADMIN_ROLES = ("agent", "lead", "other", "officer", "auditor")
API_ROLES = ("anon", "agent", "lead", "other", "officer", "auditor", "token")
USERNAMES = {
    "agent": "card_center_agent",
    "lead": "card_center_lead",
    "other": "risk_agent",
    "officer": "quality_officer",
    "auditor": "auditor",
    "token": "call_center_agent",
}


def _table(text: str, columns: tuple[str, ...], key_width: int) -> dict[Any, dict[str, str]]:
    rows: dict[Any, dict[str, str]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        key = parts[0] if key_width == 1 else tuple(parts[:key_width])
        cells = parts[key_width:]
        assert len(cells) == len(columns), f"row {key}: {len(cells)} cells for the roles {columns}"
        assert key not in rows, f"row {key} appears twice"
        rows[key] = dict(zip(columns, cells, strict=True))
    return rows


# -- The admin: every URL name of admin.site, GET, per role. ----------------------------------------
# Anonymous and the API token (the admin knows no tokens) are one rule: every admin URL redirects them
# to the login page, except the login page itself (test_admin_refuses_anonymous_and_tokens).
# The pages of a model: changelist, add, change (of the object named in `_seed`), history, delete
# (the confirmation page; what a POST does is the auditor's test below).
ADMIN = _table(
    """
# admin URL name                              agent  lead   other  officer auditor
# -- the site ----------------------------------------------------------------------------------------
index                                          200    200    200    200     200
login                                          home   home   home   home    home
password_change                                200    200    200    200     200   # one's own password
password_change_done                           200    200    200    200     200
jsi18n                                         200    200    200    200     200
view_on_site                                   404    404    404    404     404   # no model has a public URL
# The autocomplete of a foreign key answers with the related model's admin list (and its scope):
# cases through Handoff.case (the leak search checks the scope), departments (reference data), users
# (the quality office only: it picks people when it administers memberships).
autocomplete:case                              200    200    200    200     200
autocomplete:department                        200    200    200    200     200
autocomplete:user                              403    403    403    200     403
catch_all                                      404    404    404    404     404   # /admin/no-such-page/
app_list:auth                                  404    404    404    200     404
app_list:axes                                  404    404    404    404     404
app_list:django_celery_beat                    404    404    404    200     404
app_list:departments                           200    200    200    200     200
app_list:processes                             200    200    200    200     200
app_list:evaluations                           200    200    200    200     200

# -- accounts, groups, tokens, login lockouts: the superuser's; no role holds these permissions ------
auth_group_changelist                          403    403    403    403     403
auth_group_add                                 403    403    403    403     403
auth_group_change                              403    403    403    403     403
auth_group_history                             403    403    403    403     403
auth_group_delete                              403    403    403    403     403
auth_user_changelist                           403    403    403    200     403
auth_user_add                                  403    403    403    403     403
auth_user_change                               403    403    403    200     403
auth_user_history                              403    403    403    200     403
auth_user_delete                               403    403    403    403     403
auth_user_password_change                      403    403    403    403     403   # someone else's password
axes_accessattempt_changelist                  403    403    403    403     403
axes_accessattempt_add                         403    403    403    403     403
axes_accessattempt_change                      403    403    403    403     403
axes_accessattempt_history                     403    403    403    403     403
axes_accessattempt_delete                      403    403    403    403     403
axes_accesslog_changelist                      403    403    403    403     403
axes_accesslog_add                             403    403    403    403     403
axes_accesslog_change                          403    403    403    403     403
axes_accesslog_history                         403    403    403    403     403
axes_accesslog_delete                          403    403    403    403     403
axes_accessfailurelog_changelist               403    403    403    403     403
axes_accessfailurelog_add                      403    403    403    403     403
axes_accessfailurelog_change                   403    403    403    403     403
axes_accessfailurelog_history                  403    403    403    403     403
axes_accessfailurelog_delete                   403    403    403    403     403

# -- schedules of the periodic work: the quality office's (roles.py) ----------------------------------
django_celery_beat_periodictask_changelist     403    403    403    200     403
django_celery_beat_periodictask_add            403    403    403    200     403
django_celery_beat_periodictask_change         403    403    403    200     403
django_celery_beat_periodictask_history        403    403    403    200     403
django_celery_beat_periodictask_delete         403    403    403    200     403
django_celery_beat_clockedschedule_changelist  403    403    403    200     403
django_celery_beat_clockedschedule_add         403    403    403    200     403
django_celery_beat_clockedschedule_change      403    403    403    200     403
django_celery_beat_clockedschedule_history     403    403    403    200     403
django_celery_beat_clockedschedule_delete      403    403    403    200     403
django_celery_beat_crontabschedule_changelist  403    403    403    200     403
django_celery_beat_crontabschedule_add         403    403    403    200     403
django_celery_beat_crontabschedule_change      403    403    403    200     403
django_celery_beat_crontabschedule_history     403    403    403    200     403
django_celery_beat_crontabschedule_delete      403    403    403    200     403
django_celery_beat_solarschedule_changelist    403    403    403    200     403
django_celery_beat_solarschedule_add           403    403    403    200     403
django_celery_beat_solarschedule_change        403    403    403    200     403
django_celery_beat_solarschedule_history       403    403    403    200     403
django_celery_beat_solarschedule_delete        403    403    403    200     403
django_celery_beat_intervalschedule_changelist 403    403    403    200     403
django_celery_beat_intervalschedule_add        403    403    403    200     403
django_celery_beat_intervalschedule_change     403    403    403    200     403
django_celery_beat_intervalschedule_history    403    403    403    200     403
django_celery_beat_intervalschedule_delete     403    403    403    200     403

# -- the organisation: the quality office administers it, auditors read it; staff read departments
#    (reference data: names, calendars, team e-mails; members are not shown to them) ----------------
departments_businesscalendar_changelist        403    403    403    200     200
departments_businesscalendar_add               403    403    403    200     403
departments_businesscalendar_change            403    403    403    200     200
departments_businesscalendar_history           403    403    403    200     200
departments_businesscalendar_delete            403    403    403    200     403
departments_department_changelist              200    200    200    200     200
departments_department_add                     403    403    403    200     403
departments_department_change                  200    200    200    200     200
departments_department_history                 200    200    200    200     200
departments_department_delete                  403    403    403    403     403   # deactivated, never deleted
departments_membership_changelist              403    403    403    200     200
departments_membership_add                     403    403    403    200     403
departments_membership_change                  403    403    403    200     200
departments_membership_history                 403    403    403    200     200
departments_membership_delete                  403    403    403    200     403
departments_heartbeat_changelist               403    403    403    200     200
departments_heartbeat_add                      403    403    403    403     403   # the worker writes it
departments_heartbeat_change                   403    403    403    200     200
departments_heartbeat_history                  403    403    403    200     200
departments_heartbeat_delete                   403    403    403    200     403
departments_usersettings_changelist            403    403    403    200     200
departments_usersettings_add                   403    403    403    200     403
departments_usersettings_change                403    403    403    200     200
departments_usersettings_history               403    403    403    200     200
departments_usersettings_delete                403    403    403    200     403
departments_auditentry_changelist              403    403    403    200     200
departments_auditentry_add                     403    403    403    403     403   # append-only
departments_auditentry_change                  403    403    403    200     200
departments_auditentry_history                 403    403    403    200     200
departments_auditentry_delete                  403    403    403    403     403
departments_configuration_history              403    403    403    200     200

# -- cases: staff see the cases that went through their departments (404 outside), nobody edits the
#    row (every change is an action of the case page), auditors open nothing ------------------------
processes_case_changelist                      200    200    200    200     200
processes_case_add                             200    200    200    200     403
processes_case_change                          200    200    404    200     200
processes_case_history                         200    200    404    200     200
processes_case_delete                          403    403    404    403     403
# the queue: open handoffs of one's departments; a handoff's page is its case's page
processes_handoff_changelist                   200    200    200    200     200
processes_handoff_add                          403    403    403    403     403
processes_handoff_change                       case   case   404    case    case
processes_handoff_history                      200    200    gone   200     200
processes_handoff_delete                       403    403    403    403     403
# the desk: files of a case (downloads within the case scope; adding and linking are POSTs of the
# case page), a lead's bulk assignment, the live operations page of leads and those who see all,
# saved queue views (each user's own; saved from the queue page, with its filters)
processes_case_attach                          405    405    405    405     405
processes_case_link                            405    405    405    405     405
processes_case_attachment                      200    200    404    200     200
processes_handoff_bulk_assign                  403    200    403    200     403
processes_handoff_save_view                    405    405    405    405     405
processes_handoff_live                         403    200    403    200     200
processes_handoff_live_data                    403    200    403    200     200
processes_savedqueueview_changelist            200    200    200    200     200
processes_savedqueueview_add                   403    403    403    403     403
processes_savedqueueview_change                200    gone   gone   gone    gone
processes_savedqueueview_history               200    gone   gone   gone    gone
processes_savedqueueview_delete                200    gone   gone   gone    gone
# reply templates: the quality office maintains them, auditors read them; staff use them in the forms
processes_replytemplate_changelist             403    403    403    200     200
processes_replytemplate_add                    403    403    403    200     403
processes_replytemplate_change                 403    403    403    200     200
processes_replytemplate_history                403    403    403    200     200
processes_replytemplate_delete                 403    403    403    200     403
# the timeline: append-only, readable within the case scope
processes_caseevent_changelist                 200    200    200    200     200
processes_caseevent_add                        403    403    403    403     403
processes_caseevent_change                     200    200    404    200     200
processes_caseevent_history                    200    200    404    200     200
processes_caseevent_delete                     403    403    404    403     403
# process definitions: the quality office's; staff and auditors read them
processes_serviceprocess_changelist            200    200    200    200     200
processes_serviceprocess_add                   403    403    403    200     403
processes_serviceprocess_change                200    200    200    200     200
processes_serviceprocess_history               200    200    200    200     200
processes_serviceprocess_delete                403    403    403    200     403
processes_stage_changelist                     200    200    200    200     200
processes_stage_add                            403    403    403    200     403
processes_stage_change                         200    200    200    200     200
processes_stage_history                        200    200    200    200     200
processes_stage_delete                         403    403    403    200     403
# the outbox: the quality office's, auditors read it; nobody adds or deletes
processes_notification_changelist              403    403    403    200     200
processes_notification_add                     403    403    403    403     403
processes_notification_change                  403    403    403    200     200
processes_notification_history                 403    403    403    200     200
processes_notification_delete                  403    403    403    403     403
# messages to customers and the SMS console outbox: the quality office's record (nobody adds or
#    deletes); the message templates are the quality office's words, auditors read them
processes_customermessage_changelist           403    403    403    200     200
processes_customermessage_add                  403    403    403    403     403
processes_customermessage_change               403    403    403    200     200
processes_customermessage_history              403    403    403    200     200
processes_customermessage_delete               403    403    403    403     403
processes_customermessagetemplate_changelist   403    403    403    200     200
processes_customermessagetemplate_add          403    403    403    200     403
processes_customermessagetemplate_change       403    403    403    200     200
processes_customermessagetemplate_history      403    403    403    200     200
processes_customermessagetemplate_delete       403    403    403    200     403
processes_consolesms_changelist                403    403    403    200     200
processes_consolesms_add                       403    403    403    403     403
processes_consolesms_change                    403    403    403    200     200
processes_consolesms_history                   403    403    403    200     200
processes_consolesms_delete                    403    403    403    403     403
# API keys: the quality office issues and revokes them (nobody deletes one); auditors read them
departments_apikey_changelist                  403    403    403    200     200
departments_apikey_add                         403    403    403    200     403
departments_apikey_change                      403    403    403    200     200
departments_apikey_history                     403    403    403    200     200
departments_apikey_delete                      403    403    403    403     403
# webhooks: the quality office manages subscriptions and replays deliveries; auditors read (no secrets)
processes_webhooksubscription_changelist       403    403    403    200     200
processes_webhooksubscription_add              403    403    403    200     403
processes_webhooksubscription_change           403    403    403    200     200
processes_webhooksubscription_history          403    403    403    200     200
processes_webhooksubscription_delete           403    403    403    200     403
processes_webhookdelivery_changelist           403    403    403    200     200
processes_webhookdelivery_add                  403    403    403    403     403
processes_webhookdelivery_change               403    403    403    200     200
processes_webhookdelivery_history              403    403    403    200     200
processes_webhookdelivery_delete               403    403    403    403     403
# e-mail preferences: one's own (the object is card_center_agent's); the quality office sees all
processes_notificationpreference_changelist    200    200    200    200     200
processes_notificationpreference_add           200    200    200    200     200
processes_notificationpreference_change        200    gone   gone   200     gone
processes_notificationpreference_history       200    gone   gone   200     gone
processes_notificationpreference_delete        200    gone   gone   403     gone

# -- evaluations: definitions are the quality office's; scorecards a department's lead's; feedback
#    within the case scope; inspections of one's departments ----------------------------------------
evaluations_kpi_changelist                     200    200    200    200     200
evaluations_kpi_add                            403    403    403    200     403
evaluations_kpi_change                         200    200    200    200     200
evaluations_kpi_history                        200    200    200    200     200
evaluations_kpi_delete                         403    403    403    403     403   # deactivated instead
evaluations_scorecard_changelist               200    200    200    200     200
evaluations_scorecard_add                      403    403    403    200     403
evaluations_scorecard_change                   200    200    200    200     200
evaluations_scorecard_history                  200    200    200    200     200
evaluations_scorecard_delete                   403    403    403    200     403
evaluations_customerfeedback_changelist        200    200    200    200     200
evaluations_customerfeedback_add               403    403    403    200     403
evaluations_customerfeedback_change            200    200    gone   200     200
evaluations_customerfeedback_history           200    200    gone   200     200
evaluations_customerfeedback_delete            403    403    403    403     403
evaluations_inspection_changelist              200    200    200    200     200
evaluations_inspection_add                     200    200    200    200     403
evaluations_inspection_change                  200    200    404    200     200
evaluations_inspection_history                 200    200    gone   200     200
evaluations_inspection_delete                  403    403    403    403     403
evaluations_inspection_sample                  403    403    403    200     403
evaluations_evaluation_changelist              200    200    200    200     200
evaluations_evaluation_add                     403    403    403    403     403   # computed, never typed in
evaluations_evaluation_change                  404    200    404    200     200
evaluations_evaluation_history                 404    200    404    200     200
evaluations_evaluation_delete                  404    403    404    403     403
evaluations_evaluation_scorecard               404    200    404    200     200   # ?department=CARD_CENTER
evaluations_evaluation_flow                    200    200    200    200     200   # pairs of one's departments
evaluations_evaluation_kpis                    200    200    200    200     200   # the KPI definitions, read by all
evaluations_evaluation_compute                 403    403    403    200     403
evaluations_evaluation_export                  200    200    200    200     200   # the scoped list as CSV
evaluations_reviewcycle_changelist             403    403    403    200     200
evaluations_reviewcycle_add                    403    403    403    200     403
evaluations_reviewcycle_change                 403    403    403    200     200
evaluations_reviewcycle_history                403    403    403    200     200
evaluations_reviewcycle_delete                 403    403    403    403     403   # it has a review: history
# the review: its departments' leads, the owners of its actions (the agent owns one), all for those
# who see every scorecard
evaluations_improvementreview_changelist       200    200    200    200     200
evaluations_improvementreview_add              403    403    403    403     403   # run by its cycle
evaluations_improvementreview_change           200    200    404    200     200
evaluations_improvementreview_history          200    200    gone   200     200
evaluations_improvementreview_delete           403    403    403    403     403
evaluations_improvementaction_changelist       200    200    200    200     200
evaluations_improvementaction_add              403    200    403    200     403   # a lead decides actions
evaluations_improvementaction_change           200    200    404    200     200
evaluations_improvementaction_history          200    200    gone   200     200
evaluations_improvementaction_delete           403    403    403    403     403
evaluations_improvementaction_mine             mine   mine   mine   mine    mine
""",
    ADMIN_ROLES,
    1,
)

# The case page's actions (POST /admin/processes/case/<A>/action/<name>/ with valid form data), on
# case A accepted at the card center by card_center_agent. Anonymous and the token: login.
CASE_ACTIONS = _table(
    """
# action              agent    lead     other  officer  auditor
accept                refused  refused  404    refused  refused   # accepted already
claim                 ok       refused  404    refused  refused   # the agent holds it already
resume                refused  refused  404    refused  refused   # not paused
pause                 ok       ok       404    ok       refused
forward               ok       ok       404    ok       refused   # to RISK_REVIEW
resolve               ok       ok       404    ok       refused
decide_compensation   refused  refused  404    refused  refused   # nothing awaits approval
return                ok       ok       404    ok       refused
close                 refused  refused  404    refused  refused   # not resolved
reopen                refused  refused  404    refused  refused   # not resolved
extend_deadline       refused  ok       404    ok       refused   # the first extension: a lead's
cancel                ok       ok       404    ok       refused
comment               ok       ok       404    ok       refused
""",
    ADMIN_ROLES,
    1,
)

# The API (/api/v1/), every method of every endpoint, per role, on the state above: {reference} is
# case A, {handoff_id} its open handoff, {code} CARD_CENTER (departments) or COMPLAINT (processes),
# the others the objects of `_seed`. Bodies are valid (`API_BODIES`), so a refusal is the rule's.
# A 400 in an "other"/"token" cell: the body names a row outside the caller's scope, which the input
# serializer does not find ("no … in your departments"), the same answer as for a row that does not
# exist. The right is checked before the state, so a 409 goes only to those who may make the change
# (the reopen's 409 for "token": the call center worked on the case); the auditor gets 403.
API = _table(
    """
# method  path                                                anon  agent lead  other officer auditor token
GET    /api/v1/departments/                                  401   200   200   200   200   200   200
GET    /api/v1/departments/{code}/                           401   200   200   404   200   200   404
GET    /api/v1/processes/                                    401   200   200   200   200   200   200
GET    /api/v1/processes/{code}/                             401   200   200   200   200   200   200
GET    /api/v1/cases/                                        401   200   200   200   200   200   200
POST   /api/v1/cases/                                        401   201   201   201   201   403   201
GET    /api/v1/cases/changes/                                401   200   200   200   200   200   200
GET    /api/v1/events/                                       401   200   200   200   200   200   200
GET    /api/v1/cases/{reference}/                            401   200   200   404   200   200   200
GET    /api/v1/cases/{reference}/events/                     401   200   200   404   200   200   200
POST   /api/v1/cases/{reference}/forward/                    401   200   200   404   200   403   403
POST   /api/v1/cases/{reference}/resolve/                    401   200   200   404   200   403   403
POST   /api/v1/cases/{reference}/close/                      401   409   409   404   409   403   403
POST   /api/v1/cases/{reference}/reopen/                     401   409   409   404   409   403   409
POST   /api/v1/cases/{reference}/cancel/                     401   200   200   404   200   403   403
POST   /api/v1/cases/{reference}/comments/                   401   201   201   404   201   403   201
POST   /api/v1/cases/{reference}/customer-notified/          401   201   201   404   201   403   201
POST   /api/v1/cases/{reference}/extend-deadline/            401   403   200   404   200   403   403
POST   /api/v1/cases/{reference}/compensation-decision/      401   403   403   404   409   403   403
GET    /api/v1/cases/{reference}/feedback/                   401   200   200   404   200   200   200
POST   /api/v1/cases/{reference}/feedback/                   401   403   403   404   201   403   403
GET    /api/v1/cases/{reference}/attachments/                401   200   200   404   200   200   200
POST   /api/v1/cases/{reference}/attachments/                401   201   201   404   201   403   201
GET    /api/v1/cases/{reference}/attachments/{attachment_id}/ 401  200   200   404   200   200   200
GET    /api/v1/cases/{reference}/links/                      401   200   200   404   200   200   200
POST   /api/v1/cases/{reference}/links/                      401   201   201   404   201   403   201
GET    /api/v1/handoffs/                                     401   200   200   200   200   200   200
GET    /api/v1/handoffs/{handoff_id}/                        401   200   200   404   200   200   200
POST   /api/v1/handoffs/{handoff_id}/accept/                 401   409   409   404   409   403   403
POST   /api/v1/handoffs/{handoff_id}/return/                 401   200   200   404   200   403   403
POST   /api/v1/handoffs/{handoff_id}/claim/                  401   200   409   404   409   403   403
POST   /api/v1/handoffs/{handoff_id}/pause/                  401   200   200   404   200   403   403
POST   /api/v1/handoffs/{handoff_id}/resume/                 401   409   409   404   409   403   403
GET    /api/v1/evaluations/                                  401   200   200   200   200   200   200
GET    /api/v1/evaluations/{evaluation_id}/                  401   404   200   404   200   200   404
GET    /api/v1/kpis/                                         401   200   200   200   200   200   200
GET    /api/v1/analytics/handoff-flow/                       401   200   200   200   200   200   200
GET    /api/v1/scorecards/                                   401   200   200   200   200   200   200
GET    /api/v1/inspections/                                  401   200   200   200   200   200   200
POST   /api/v1/inspections/                                  401   201   201   400   201   403   403
GET    /api/v1/inspections/{inspection_id}/                  401   200   200   404   200   200   404
POST   /api/v1/inspections/{inspection_id}/complete/         401   403   200   404   200   403   404
GET    /api/v1/reviews/                                      401   200   200   200   200   200   200
GET    /api/v1/reviews/{review_id}/                          401   200   200   404   200   200   404
GET    /api/v1/actions/                                      401   200   200   200   200   200   200
POST   /api/v1/actions/                                      401   403   201   400   201   403   400
GET    /api/v1/actions/{action_id}/                          401   200   200   404   200   200   404
PATCH  /api/v1/actions/{action_id}/                          401   200   200   404   200   403   404
""",
    API_ROLES,
    2,
)
# Any other method of these paths: 405 for whoever is logged in (officer and auditor are asked).
OTHER_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# The rest of the site, for anybody (the API's documentation is public, its data is not).
PUBLIC = {
    # route: (method, statuses)
    "healthz": ("GET", {200}),
    "readyz": ("GET", {200, 503}),  # the database and the broker decide, not the caller
    "api/schema/": ("GET", {200}),
    "api/docs/": ("GET", {200}),
    "i18n/setlang/": ("POST", {302}),
    # The catch-all after every API route: a JSON 404 for anything unknown under /api/, DEBUG or not.
    "^api/(?P<path>.*)$": ("GET", {404}),
}

# Which of the seeded cases each role may see (the leak search's reference), and what the lists show.
VISIBLE_CASES = {
    "anon": set(),
    "agent": {"A", "C"},
    "lead": {"A", "C"},
    "other": set(),
    "officer": {"A", "B", "C"},
    "auditor": {"A", "B", "C"},
    "token": {"A", "B", "C"},
}
# API lists: what each role's page holds ("*": every department).
LIST_SCOPE = _table(
    """
# list            agent        lead         other  officer  auditor  token
departments       CARD_CENTER  CARD_CENTER  RISK   *        *        CALL_CENTER
cases             A,C          A,C          -      A,B,C    A,B,C    A,B,C
handoffs          A,C          A,C          -      A,B,C    A,B,C    A,B,C
evaluations       -            CARD_CENTER  -      *        *        -
inspections       I            I            -      I        I        -
reviews           R            R            -      R        R        -
actions           X            X            -      X        X        -
""",
    ("agent", "lead", "other", "officer", "auditor", "token"),
    1,
)
# Department-level data: scorecards, the flow and reviews are a lead's (and inspector's) for their
# departments and everybody's for those who see all (evaluations/policy.py); agents see none.
_ALL_PAIRS = {
    "intake>CALL_CENTER",
    "CALL_CENTER>CARD_CENTER",
    "CALL_CENTER>RETAIL_LENDING",
    "CARD_CENTER>CALL_CENTER",
}
FLOW_SCOPE = {  # GET /api/v1/analytics/handoff-flow/ for last month: from>to pairs shown
    "agent": set(),
    "lead": {"CALL_CENTER>CARD_CENTER", "CARD_CENTER>CALL_CENTER"},
    "other": set(),
    "officer": _ALL_PAIRS,
    "auditor": _ALL_PAIRS,
    "token": set(),
}
REVIEW_SCOPE = {  # GET /api/v1/reviews/{R}/: the departments whose part of the review is shown
    "agent": set(),  # sees the review because they own one of its actions, not a department's part
    "lead": {"CARD_CENTER"},
    "other": set(),  # 404
    "officer": {"CALL_CENTER", "CARD_CENTER"},
    "auditor": {"CALL_CENTER", "CARD_CENTER"},
    "token": set(),  # 404
}
EXPORT_SCOPE = {  # the admin's evaluation export (CSV): departments of its rows
    "agent": set(),
    "lead": {"CARD_CENTER"},
    "other": set(),
    "officer": {"*"},
    "auditor": {"*"},
}

# Not requested: logout ends the session (POST only), and Django's "<id>/" URL only redirects to the
# change page (its name is None); processes_case_action is the CASE_ACTIONS table.
NOT_PAGES = {"logout", "processes_case_action"}

# ====================================================================================================
# The state
# ====================================================================================================
MATRIX_PDF = b"%PDF-1.4\n%%EOF\n"
PAGES = ("changelist", "add", "change", "history", "delete")
CUSTOMERS = {
    # case: (title, name, phone, id)
    "A": ("信用卡年费争议", "张小三", "13812345678", "110101199001011234"),
    "B": ("个贷提前还款违约金争议", "李大海", "13900001111", "310101198502023456"),
    "C": ("信用卡分期手续费争议", "王美丽", "13711112222", "440101197703034567"),
}


@dataclass
class World:
    users: dict[str, Any]
    cases: dict[str, Case]
    handoff: Handoff
    objects: dict[str, Any]  # model label → pk of the object of its change/history/delete pages
    ids: dict[str, Any]  # I (inspection), R (review), X (action), E (evaluation), criteria
    token_key: str
    clients: dict[str, Client] = field(default_factory=dict)

    def forbidden(self, role: str) -> list[str]:
        """What `role` must never read: other departments' cases, and unmasked customer data."""
        out = []
        for name, case in self.cases.items():
            if name not in VISIBLE_CASES[role]:
                out += [case.reference, case.title]
        if role != "officer":
            out += [value for _title, *pii in CUSTOMERS.values() for value in pii]
        return out


def _seed() -> World:
    from core.beat import install_schedules
    from departments.demo import seed_organisation
    from departments.services import heartbeat_record
    from evaluations import services as evaluation_services
    from evaluations.demo import ensure_scorecard
    from evaluations.models import Evaluation, Kpi, Level
    from evaluations.periods import TZ, PeriodKind, period_containing, today
    from evaluations.reviews import services as reviews
    from evaluations.reviews.models import ImprovementAction
    from processes import services
    from processes.api.tokens import api_token_issue
    from processes.demo import seed_processes

    departments = seed_organisation()
    processes = seed_processes()
    evaluation_services.kpi_ensure_defaults()  # a transactional test elsewhere may have flushed them
    scorecard = ensure_scorecard()
    users = {role: get_user_model().objects.get(username=name) for role, name in USERNAMES.items()}
    call_center, card_center, officer = users["token"], users["agent"], users["officer"]

    # The cases happened last month, so that last month's review and evaluations see them.
    last_month = period_containing(PeriodKind.MONTHLY, today()).previous()
    start = datetime.combine(last_month.start + timedelta(days=9), time(10), tzinfo=TZ)

    def open_handoff(case: Case) -> Handoff:
        return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

    def to_stage(key: str, stage: str, at: datetime) -> Case:
        title, name, phone, customer_id = CUSTOMERS[key]
        case, _ = services.case_open(
            process=processes["COMPLAINT"],
            title=title,
            channel=Case.Channel.PHONE,
            customer_name=name,
            customer_phone=phone,
            customer_id=customer_id,
            actor=call_center,
            at=at,
        )
        services.handoff_accept(handoff=open_handoff(case), actor=call_center, at=at + timedelta(minutes=2))
        services.case_forward(case=case, to_stage=stage, actor=call_center, at=at + timedelta(minutes=5))
        return case

    a = to_stage("A", "INVESTIGATE_CARD", start)
    services.handoff_accept(handoff=open_handoff(a), actor=card_center, at=start + timedelta(hours=1))
    b = to_stage("B", "INVESTIGATE_LENDING", start + timedelta(hours=1))
    c = to_stage("C", "INVESTIGATE_CARD", start + timedelta(hours=2))
    services.handoff_accept(handoff=open_handoff(c), actor=card_center, at=start + timedelta(hours=3))
    services.case_resolve(
        case=c,
        actor=card_center,
        resolution="分期手续费已减免",
        recovery_measure=Case.Recovery.FEE_WAIVER,
        at=start + timedelta(hours=5),
    )
    feedback, _ = evaluation_services.feedback_record(
        case=c,
        actor=officer,
        survey_id="MATRIX-1",
        csat=4,
        responded_at=start + timedelta(days=1),
        at=start + timedelta(days=1),
    )
    inspection = evaluation_services.inspection_assign(
        case=c,
        department=departments["CARD_CENTER"],
        level=Level.DEPARTMENT,
        scorecard=scorecard,
        actor=officer,
    )
    cycle = reviews.review_cycle_create(
        actor=officer,
        name="信用卡与客服月度评审",
        kind=PeriodKind.MONTHLY,
        all_departments=False,
        departments=[departments["CALL_CENTER"], departments["CARD_CENTER"]],
    )
    review, _ = reviews.review_cycle_run(cycle=cycle, period_start=last_month.start, actor=officer)
    action = reviews.action_create(
        review=review,
        department=departments["CARD_CENTER"],
        owner=card_center,
        title="年费争议话术培训",
        kind=ImprovementAction.Kind.TRAINING,
        due_date=today() + timedelta(days=30),
        actor=users["lead"],
    )
    evaluation = Evaluation.objects.get(
        department=departments["CARD_CENTER"], kind=PeriodKind.MONTHLY, period_start=last_month.start
    )
    token = api_token_issue(username=USERNAMES["token"])

    # Rows of models without a service of their own (third-party, self-service, the worker's).
    heartbeat_record()
    install_schedules()
    from processes.models import WebhookDelivery, WebhookSubscription
    from processes.webhooks.signing import new_secret

    hook = WebhookSubscription.objects.create(
        name="CRM", url="https://crm.bank.example/hooks", secret=new_secret(), owner=users["officer"]
    )
    hook_delivery = WebhookDelivery.objects.create(
        subscription=hook, event=CaseEvent.objects.filter(case=a).order_by("pk").first(), case=a
    )
    preference = NotificationPreference.objects.create(
        user=card_center, kind=Notification.Kind.DUE_SOON, email=False
    )
    settings_row = UserSettings.objects.create(user=users["lead"], language="zh-hans")
    audit = AuditEntry.objects.create(kind=AuditEntry.Kind.LOGIN, user=officer, username=officer.username)
    axes = {"user_agent": "pytest", "ip_address": "10.0.0.9", "username": "nobody", "http_accept": "*/*"}
    attempt = AccessAttempt.objects.create(**axes, path_info="/admin/login/", failures_since_start=1)
    access_log = AccessLog.objects.create(**axes, path_info="/admin/login/")
    failure_log = AccessFailureLog.objects.create(**axes, path_info="/admin/login/")
    clocked = ClockedSchedule.objects.create(clocked_time=start)
    solar = SolarSchedule.objects.create(event="sunrise", latitude=31.23, longitude=121.47)

    # The desk: a file on case A, a reply template, card_center_agent's saved queue view.
    from processes.attachments import attachment_add
    from processes.models import ReplyTemplate, SavedQueueView

    attachment = attachment_add(case=a, actor=card_center, file=MATRIX_PDF, name="账单.pdf")
    reply = ReplyTemplate.objects.create(
        process=processes["COMPLAINT"], kind="resolution", title="年费退还", text_zh="年费已退还。"
    )
    saved_view = SavedQueueView.objects.create(user=card_center, name="我的", query="assignee=me")

    # Messages are made from the outbox entries at delivery.
    deliver_due()
    from processes.models import ConsoleSms, CustomerMessage, CustomerMessageTemplate

    customer_message = CustomerMessage.objects.create(
        case=a, kind=CustomerMessage.Kind.INTAKE, channel=CustomerMessage.Channel.SMS, dedup_key="matrix"
    )
    customer_template = CustomerMessageTemplate.objects.create(
        kind="intake", language="en", body="{reference}"
    )
    console_sms = ConsoleSms.objects.create(to_masked="138****5678", body="matrix")

    objects = {
        "auth.group": Group.objects.get(name=STAFF).pk,
        "auth.user": card_center.pk,
        "axes.accessattempt": attempt.pk,
        "axes.accesslog": access_log.pk,
        "axes.accessfailurelog": failure_log.pk,
        "django_celery_beat.periodictask": PeriodicTask.objects.order_by("pk").first().pk,
        "django_celery_beat.clockedschedule": clocked.pk,
        "django_celery_beat.crontabschedule": CrontabSchedule.objects.order_by("pk").first().pk,
        "django_celery_beat.solarschedule": solar.pk,
        "django_celery_beat.intervalschedule": IntervalSchedule.objects.order_by("pk").first().pk,
        "departments.businesscalendar": BusinessCalendar.objects.get(code="CN_HEAD_OFFICE").pk,
        "departments.department": departments["CARD_CENTER"].pk,
        "departments.membership": Membership.objects.get(user=card_center).pk,
        "departments.heartbeat": Heartbeat.objects.get().pk,
        "departments.usersettings": settings_row.pk,
        "departments.auditentry": audit.pk,
        "processes.case": a.pk,
        "processes.serviceprocess": processes["COMPLAINT"].pk,
        "processes.stage": Stage.objects.get(process=processes["COMPLAINT"], code="INVESTIGATE_CARD").pk,
        "processes.notification": Notification.objects.order_by("pk").first().pk,
        "processes.notificationpreference": preference.pk,
        "processes.customermessage": customer_message.pk,
        "processes.customermessagetemplate": customer_template.pk,
        "processes.consolesms": console_sms.pk,
        "processes.webhooksubscription": hook.pk,
        "departments.apikey": token.api_key.pk,
        "processes.webhookdelivery": hook_delivery.pk,
        "processes.handoff": open_handoff(a).pk,
        "processes.caseevent": CaseEvent.objects.filter(case=a).order_by("pk").first().pk,
        "evaluations.kpi": Kpi.objects.order_by("pk").first().pk,
        "evaluations.scorecard": scorecard.pk,
        "evaluations.customerfeedback": feedback.pk,
        "evaluations.inspection": inspection.pk,
        "evaluations.evaluation": evaluation.pk,
        "evaluations.reviewcycle": cycle.pk,
        "evaluations.improvementreview": review.pk,
        "evaluations.improvementaction": action.pk,
        "processes.replytemplate": reply.pk,
        "processes.savedqueueview": saved_view.pk,
        "processes.attachment": attachment.pk,
    }
    criteria = {c.code: int(c.max_score) for c in scorecard.criteria.all()}
    world = World(
        users=users,
        cases={"A": a, "B": b, "C": c},
        handoff=open_handoff(a),
        objects=objects,
        ids={"I": inspection.pk, "R": review.pk, "X": action.pk, "E": evaluation.pk, "criteria": criteria},
        token_key=token.key,
    )
    for role in ADMIN_ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(users[role])
        world.clients[role] = client
    world.clients["anon"] = Client(raise_request_exception=False)
    world.clients["token"] = Client(
        raise_request_exception=False, headers={"Authorization": f"Token {token.key}"}
    )
    return world


# ====================================================================================================
# Fixtures and helpers
# ====================================================================================================
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Seeded once for the module inside one transaction that is rolled back at the end; each request
    of the tests runs in a savepoint of its own, rolled back too (`isolated`), so no cell sees another
    cell's writes."""
    with django_db_blocker.unblock(), transaction.atomic():
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        try:
            yield _seed()
        finally:
            transaction.set_rollback(True)


@contextmanager
def isolated():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


INDEX_URL = "/admin/"
LOGIN_URL = "/admin/login/"


def _model_pages() -> dict[str, tuple[str, str]]:
    """URL name → (model label, page) of every registered model's standard pages."""
    return {
        f"{model._meta.app_label}_{model._meta.model_name}_{page}": (model._meta.label_lower, page)
        for model in admin.site._registry
        for page in PAGES
    }


MODEL_PAGES = _model_pages()


def admin_url(name: str, w: World) -> str:
    if name in MODEL_PAGES:
        label, page = MODEL_PAGES[name]
        args = [] if page in ("changelist", "add") else [w.objects[label]]
        return reverse(f"admin:{name}", args=args)
    if name.startswith("app_list:"):
        return reverse("admin:app_list", kwargs={"app_label": name.split(":", 1)[1]})
    from django.contrib.contenttypes.models import ContentType

    special = {
        "catch_all": lambda: "/admin/no-such-page/",
        "view_on_site": lambda: reverse(
            "admin:view_on_site", args=[ContentType.objects.get_for_model(Case).pk, w.cases["A"].pk]
        ),
        "autocomplete:case": lambda: (
            reverse("admin:autocomplete") + "?app_label=processes&model_name=handoff&field_name=case&term="
        ),
        "autocomplete:department": lambda: (
            reverse("admin:autocomplete")
            + "?app_label=departments&model_name=membership&field_name=department&term="
        ),
        "autocomplete:user": lambda: (
            reverse("admin:autocomplete")
            + "?app_label=departments&model_name=membership&field_name=user&term=card"
        ),
        "auth_user_password_change": lambda: reverse(
            "admin:auth_user_password_change", args=[w.users["agent"].pk]
        ),
        "evaluations_evaluation_scorecard": lambda: (
            reverse("admin:evaluations_evaluation_scorecard") + "?department=CARD_CENTER"
        ),
        "evaluations_evaluation_export": lambda: reverse("admin:evaluations_evaluation_export", args=["csv"]),
        "processes_case_attach": lambda: reverse("admin:processes_case_attach", args=[w.cases["A"].pk]),
        "processes_case_link": lambda: reverse("admin:processes_case_link", args=[w.cases["A"].pk]),
        "processes_case_attachment": lambda: reverse(
            "admin:processes_case_attachment", args=[w.cases["A"].pk, w.objects["processes.attachment"]]
        ),
    }
    return special[name]() if name in special else reverse(f"admin:{name}")


def admin_url_names() -> set[str]:
    """Every named URL of admin.site (app_list once per registered app)."""
    names: set[str] = set()

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name:
                names.add(pattern.name)

    walk(admin.site.get_urls())
    names.discard("app_list")
    return names | {f"app_list:{model._meta.app_label}" for model in admin.site._registry}


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        with suppress(ValueError):  # \u escapes would hide Chinese names from the leak search
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


def leaks(response, w: World, role: str) -> list[str]:
    """What a 2xx answer shows that `role` must never read."""
    if not 200 <= response.status_code < 300:
        return []
    text = body_text(response)
    return [secret for secret in w.forbidden(role) if secret in text]


def described(response) -> str:
    text = str(response.status_code)
    if response.status_code in (301, 302):
        text += f" → {response['Location']}"
    exc = getattr(response, "exc_info", None)
    if exc:
        text += f" ({exc[0].__name__}: {exc[1]})"
    return text


def last_message_level(response) -> int | None:
    stored = list(get_messages(response.wsgi_request))
    return stored[-1].level if stored else None


def matches(expected: str, response, *, case_url: str = "") -> bool:
    code, location = response.status_code, response.get("Location", "")
    if expected == "login":
        return code == 302 and location.startswith(f"{LOGIN_URL}?next=")
    if expected in ("home", "gone"):
        return code == 302 and location == INDEX_URL
    if expected == "case":
        return code == 302 and location.startswith(case_url)
    if expected == "mine":
        return code == 302 and location.endswith("?mine=1")
    if expected in ("ok", "refused"):
        level = message_levels.SUCCESS if expected == "ok" else message_levels.ERROR
        return code == 302 and location == case_url and last_message_level(response) == level
    return code == int(expected)


def case_counts(case: Case) -> tuple:
    """What a refused change must leave as it was: the timeline, the handoffs, the case row."""
    row = Case.objects.filter(pk=case.pk).values_list("status", "updated_at", "current_stage_id").get()
    return CaseEvent.objects.count(), Handoff.objects.count(), Case.objects.count(), row


SNAPSHOT_APPS = ("departments", "processes", "evaluations", "authtoken", "django_celery_beat", "auth")


def snapshot() -> dict[str, list]:
    """Every row of the domain, the tokens, the schedules and the accounts."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in SNAPSHOT_APPS and not model._meta.proxy
    }


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


# -- the API --------------------------------------------------------------------------------------------
def api_url(method: str, path: str, w: World) -> str:
    from evaluations.periods import PeriodKind, period_containing, today

    code = "CARD_CENTER" if path.startswith("/api/v1/departments/") else "COMPLAINT"
    url = path.format(
        code=code,
        reference=w.cases["A"].reference,
        handoff_id=w.handoff.pk,
        evaluation_id=w.ids["E"],
        inspection_id=w.ids["I"],
        review_id=w.ids["R"],
        action_id=w.ids["X"],
        attachment_id=w.objects["processes.attachment"],
    )
    if path == "/api/v1/analytics/handoff-flow/":
        last_month = period_containing(PeriodKind.MONTHLY, today()).previous()
        url += f"?start={last_month.start}&end={last_month.end}"
    return url


def api_body(method: str, path: str, w: World) -> dict[str, Any]:
    from evaluations.periods import today

    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/cases/"): {
            "process": "COMPLAINT",
            "title": "权限矩阵: 新投诉",
            "channel": "phone",
            "source": "matrix",
            "external_id": "M-1",
        },
        ("POST", "/api/v1/cases/{reference}/forward/"): {"to_stage": "RISK_REVIEW", "note": "请风险复核"},
        ("POST", "/api/v1/cases/{reference}/resolve/"): {
            "resolution": "已向客户致歉并解释",
            "recovery_measure": "apology",
        },
        ("POST", "/api/v1/cases/{reference}/reopen/"): {"reason": "客户再次来电"},
        ("POST", "/api/v1/cases/{reference}/cancel/"): {"reason": "客户撤回投诉"},
        ("POST", "/api/v1/cases/{reference}/comments/"): {"text": "已电话联系客户"},
        ("POST", "/api/v1/cases/{reference}/customer-notified/"): {"channel": "phone"},
        ("POST", "/api/v1/cases/{reference}/extend-deadline/"): {"reason": "需调取交易凭证"},
        ("POST", "/api/v1/cases/{reference}/compensation-decision/"): {"approve": True},
        ("POST", "/api/v1/cases/{reference}/feedback/"): {"survey_id": "MATRIX-2", "csat": 5},
        ("POST", "/api/v1/handoffs/{handoff_id}/return/"): {"reason": "非本部门职责"},
        ("POST", "/api/v1/handoffs/{handoff_id}/pause/"): {"cause": "customer", "note": "等待客户提供账单"},
        ("POST", "/api/v1/inspections/"): {
            "case": w.cases["C"].reference,
            "department": "CARD_CENTER",
            "level": "self",
            "scorecard": "SERVICE_QA",
            "scores": w.ids["criteria"],
        },
        ("POST", "/api/v1/inspections/{inspection_id}/complete/"): {
            "scores": w.ids["criteria"],
            "comment": "处理规范",
        },
        ("POST", "/api/v1/actions/"): {
            "review": w.ids["R"],
            "department": "CARD_CENTER",
            "owner": "card_center_agent",
            "title": "退费流程优化",
            "kind": "process_change",
            "due_date": (today() + timedelta(days=30)).isoformat(),
        },
        ("PATCH", "/api/v1/actions/{action_id}/"): {"status": "in_progress"},
        ("POST", "/api/v1/cases/{reference}/links/"): {"kind": "child_of", "target": w.cases["C"].reference},
    }
    return bodies.get((method, path), {})


def api_call(client: Client, method: str, path: str, w: World):
    url = api_url(method, path, w)
    if method == "GET":
        return client.get(url)
    if (method, path) == ("POST", "/api/v1/cases/{reference}/attachments/"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(url, {"file": SimpleUploadedFile("statement.pdf", MATRIX_PDF)})
    body = json.dumps(api_body(method, path, w))
    return client.generic(method, url, body, content_type="application/json")


def _route_template(route: str) -> str:
    """`cases/<case_ref:reference>/` → `cases/{reference}/`, as the OpenAPI schema writes it."""
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def api_endpoints_from_urls() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for top in get_resolver().url_patterns:
        if not (isinstance(top, URLResolver) and str(top.pattern) == "api/v1/"):
            continue
        for pattern in top.url_patterns:
            assert isinstance(pattern, URLPattern), f"nested include under /api/v1/: {pattern}"
            view = pattern.callback.view_class
            path = "/api/v1/" + _route_template(str(pattern.pattern))
            for method in ("get", "post", "put", "patch", "delete"):
                if hasattr(view, method):
                    found.add((method.upper(), path))
    return found


# ACTION_FORMS field names are prefixed with the action's name.
def action_data(action: str, w: World) -> dict[str, Any]:
    fields = {
        "accept": {},
        "claim": {},
        "resume": {},
        "pause": {"cause": "customer", "note": "等待客户回电"},
        "forward": {"to_stage": "RISK_REVIEW", "note": "请风险复核"},
        "resolve": {"resolution": "已致歉", "recovery_measure": "apology", "compensation_amount": ""},
        "decide_compensation": {"decision": "approve", "note": ""},
        "return": {"reason": "非本部门职责"},
        "close": {},
        "reopen": {"reason": "客户再次来电"},
        "extend_deadline": {"reason": "需调取交易凭证"},
        "cancel": {"reason": "客户撤回投诉"},
        "comment": {"text": "已电话联系客户"},
    }[action]
    if action in ("accept", "claim", "resume", "pause", "forward", "return"):
        fields = {**fields, "handoff": w.handoff.pk}
    return {f"{action}-{name}": value for name, value in fields.items()}


def case_page(w: World) -> str:
    return reverse("admin:processes_case_change", args=[w.cases["A"].pk])


# ====================================================================================================
# The matrix stays complete
# ====================================================================================================
def test_the_matrix_knows_every_admin_page(world):
    names = admin_url_names()
    # "name:variant" rows ask one URL name several ways (app_list rows are names of their own here).
    rows = {row if row.startswith("app_list:") else row.split(":", 1)[0] for row in ADMIN}
    unknown = sorted(names - rows - NOT_PAGES)
    assert not unknown, (
        f"admin pages the permissions matrix does not know (give each a row in ADMIN): {unknown}"
    )
    stale = sorted(rows - names - {"catch_all"})
    assert not stale, f"rows of ADMIN for pages that no longer exist: {stale}"
    without_object = sorted(
        model._meta.label_lower
        for model in admin.site._registry
        if model._meta.label_lower not in world.objects
    )
    assert not without_object, (
        f"registered models with no object for their change pages in _seed: {without_object}"
    )
    actions = set(ACTION_FORMS)
    assert actions == set(CASE_ACTIONS), (
        f"case-page actions missing from CASE_ACTIONS: {sorted(actions - set(CASE_ACTIONS))}; "
        f"rows for actions that no longer exist: {sorted(set(CASE_ACTIONS) - actions)}"
    )


def test_the_matrix_knows_every_api_endpoint(world):
    from_urls = api_endpoints_from_urls()
    response = world.clients["anon"].get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    from_schema = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    known = set(API)
    unknown = sorted(from_urls - known) + sorted(from_schema - from_urls - known)
    assert not unknown, (
        "API endpoints the permissions matrix does not know (give each a row in API): "
        + ", ".join(f"{m} {p}" for m, p in unknown)
    )
    stale = sorted(known - from_urls)
    assert not stale, f"rows of API for endpoints that no longer exist: {stale}"


def test_every_other_url_of_the_site_is_public_and_known(world):
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if route not in ("admin/", "api/v1/"):  # the two tables above
                    walk(pattern.url_patterns, route)
            else:
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    unknown = sorted(set(routes) - set(PUBLIC))
    assert not unknown, (
        f"URLs outside /admin/ and /api/v1/ the matrix does not know (add them to PUBLIC): {unknown}"
    )
    anonymous = world.clients["anon"]
    for route, (method, statuses) in PUBLIC.items():
        response = anonymous.get(f"/{route}") if method == "GET" else anonymous.post(f"/{route}", {})
        assert response.status_code in statuses, (route, described(response))


# ====================================================================================================
# The admin
# ====================================================================================================
@pytest.mark.parametrize("name", sorted(ADMIN))
def test_admin_page(world, name):
    url = admin_url(name, world)
    problems = []
    expectations = {**ADMIN[name], "anon": "login", "token": "login"}
    if name == "login":
        expectations.update(anon="200", token="200")
    for role, expected in expectations.items():
        with isolated():
            response = world.clients[role].get(url)
        if not matches(expected, response, case_url=case_page(world)):
            problems.append(f"{role}: expected {expected}, got {described(response)}")
        if leaked := leaks(response, world, role):
            problems.append(f"{role}: the page shows what {role} must not see: {leaked}")
    assert not problems, f"GET {url}\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("action", sorted(CASE_ACTIONS))
def test_admin_case_page_action(world, action):
    url = reverse("admin:processes_case_action", args=[world.cases["A"].pk, action])
    data = action_data(action, world)
    problems = []
    expectations = {**CASE_ACTIONS[action], "anon": "login", "token": "login"}
    for role, expected in expectations.items():
        with isolated():
            before = case_counts(world.cases["A"])
            response = world.clients[role].post(url, data)
            after = case_counts(world.cases["A"])
        if not matches(expected, response, case_url=case_page(world)):
            problems.append(f"{role}: expected {expected}, got {described(response)}")
        if expected != "ok" and before != after:
            problems.append(f"{role}: refused, yet the case, its handoffs or its timeline changed")
    assert not problems, f"POST {url} {data}\n  " + "\n  ".join(problems)


# ====================================================================================================
# The API
# ====================================================================================================
@pytest.mark.parametrize(("method", "path"), sorted(API), ids=[f"{m} {p}" for m, p in sorted(API)])
def test_api_endpoint(world, method, path):
    problems = []
    for role, expected in API[(method, path)].items():
        with isolated():
            before = case_counts(world.cases["A"])
            response = api_call(world.clients[role], method, path, world)
            after = case_counts(world.cases["A"])
        if response.status_code != int(expected):
            problems.append(
                f"{role}: expected {expected}, got {described(response)} {body_text(response)[:200]}"
            )
        if leaked := leaks(response, world, role):
            problems.append(f"{role}: the answer shows what {role} must not see: {leaked}")
        if method != "GET" and response.status_code >= 400 and before != after:
            problems.append(f"{role}: refused with {response.status_code}, yet the case changed")
    assert not problems, f"{method} {path}\n  " + "\n  ".join(problems)


def test_api_other_methods_are_not_allowed(world):
    problems = []
    for path in sorted({path for _method, path in API}):
        listed = {method for method, p in API if p == path}
        for method in OTHER_METHODS:
            if method in listed:
                continue
            for role in ("officer", "auditor"):
                with isolated():
                    response = api_call(world.clients[role], method, path, world)
                if response.status_code != 405:
                    problems.append(f"{role} {method} {path}: expected 405, got {described(response)}")
    assert not problems, "\n".join(problems)


def _listed(response, list_name: str, w: World) -> set[str]:
    rows = response.json()["results"]
    names = {case.reference: key for key, case in w.cases.items()}
    seeded = {"inspections": "I", "reviews": "R", "actions": "X"}
    if list_name == "departments":
        return {row["code"] for row in rows}
    if list_name == "evaluations":
        return {row["department"] for row in rows}
    if list_name == "cases":
        return {names.get(row["reference"], row["reference"]) for row in rows}
    if list_name == "handoffs":
        return {names.get(row["case"], row["case"]) for row in rows}
    key = seeded[list_name]
    return {key if row["id"] == w.ids[key] else str(row["id"]) for row in rows}


def test_lists_show_exactly_their_scope(world):
    everything = set(Department.objects.values_list("code", flat=True))
    problems = []
    for list_name, row in LIST_SCOPE.items():
        for role, cell in row.items():
            expected = everything if cell == "*" else set() if cell == "-" else set(cell.split(","))
            response = world.clients[role].get(f"/api/v1/{list_name}/?page_size=200")
            assert response.status_code == 200, (role, list_name, described(response))
            shown = _listed(response, list_name, world)
            if shown != expected:
                problems.append(
                    f"/api/v1/{list_name}/ as {role}: expected {sorted(expected)}, shown {sorted(shown)}"
                )
    # Department-level data, which the leak search (references, customers) cannot tell apart.
    for role, expected in FLOW_SCOPE.items():
        response = api_call(world.clients[role], "GET", "/api/v1/analytics/handoff-flow/", world)
        shown = {f"{c['from_department'] or 'intake'}>{c['to_department']}" for c in response.json()["cells"]}
        if shown != expected:
            problems.append(f"handoff flow as {role}: expected {sorted(expected)}, shown {sorted(shown)}")
    for role, expected in REVIEW_SCOPE.items():
        response = api_call(world.clients[role], "GET", "/api/v1/reviews/{review_id}/", world)
        body = response.json() if response.status_code == 200 else {}
        shown = set(body.get("departments", [])) | set(body.get("findings", {}).get("departments", []))
        if shown != expected:
            problems.append(
                f"review departments as {role}: expected {sorted(expected)}, shown {sorted(shown)}"
            )
    export = reverse("admin:evaluations_evaluation_export", args=["csv"])
    for role, expected in EXPORT_SCOPE.items():
        lines = body_text(world.clients[role].get(export)).lstrip("\ufeff").splitlines()[1:]
        shown = {line.split(",", 1)[0] for line in lines if line}
        expected = everything if expected == {"*"} else expected
        if shown != expected:
            problems.append(
                f"evaluation export as {role}: expected {sorted(expected)}, shown {sorted(shown)}"
            )
    # The admin's case list and queue, as each department's staff see them.
    queue = {
        "agent": {"A"},
        "lead": {"A"},
        "other": set(),
        "officer": {"A", "B", "C"},
        "auditor": {"A", "B", "C"},
    }
    for role in ADMIN_ROLES:
        cases = body_text(world.clients[role].get(reverse("admin:processes_case_changelist")))
        waiting = body_text(world.clients[role].get(reverse("admin:processes_handoff_changelist")))
        for key, case in world.cases.items():
            if (case.reference in cases) != (key in VISIBLE_CASES[role]):
                problems.append(f"admin case list as {role}: {key} shown={case.reference in cases}")
            if (case.reference in waiting) != (key in queue[role]):
                problems.append(f"admin queue as {role}: {key} shown={case.reference in waiting}")
    assert not problems, "\n".join(problems)


# ====================================================================================================
# The auditor changes nothing
# ====================================================================================================
# The auditor's POSTs to the admin: a page that can write answers 403 (Django's answer to a user who
# may only view), a page that only reads answers a POST as it answers a GET (its ADMIN cell), and
# these pages say otherwise:
AUDITOR_POST = {
    "login": "200",  # an empty login form, shown again
    "password_change": "200",  # one's own password: an empty form, shown again
    "autocomplete:case": "405",  # GET-only views
    "autocomplete:department": "405",
    "autocomplete:user": "405",
    "jsi18n": "405",
    "password_change_done": "405",
    "processes_handoff_change": "case",  # a handoff's page only points to its case's page
    "processes_notificationpreference_change": "gone",  # someone else's: not in the auditor's list
    "processes_notificationpreference_delete": "gone",
    "evaluations_inspection_change": "200",  # the page shows no record form: the POST is ignored
    "evaluations_improvementaction_change": "200",  # the status change is refused with a message
    "processes_case_attach": "refused",  # no file: the form's error, back to the case page
    "processes_case_link": "refused",  # no target: the form's error, back to the case page
    "processes_case_attachment": "405",  # a download is a GET
    "processes_savedqueueview_change": "gone",  # someone else's: not in the auditor's list
    "processes_savedqueueview_delete": "gone",
}
WRITE_PAGES = {"evaluations_inspection_sample", "evaluations_evaluation_compute"}
# The one write an auditor has in the admin: their own e-mail preferences (personal settings, like
# their password; see the report). It is not swept.
AUDITOR_OWN_SETTINGS = {"processes_notificationpreference_add", "processes_handoff_save_view"}


def _auditor_admin_post(name: str) -> tuple[str, dict[str, Any]]:
    page = MODEL_PAGES.get(name, (None, None))[1]
    writes = page in ("add", "change", "delete") or name in WRITE_PAGES
    expected = AUDITOR_POST.get(name, "403" if writes else ADMIN[name]["auditor"])
    data: dict[str, Any] = {"post": "yes"} if page == "delete" else {}
    if name == "evaluations_improvementaction_change":
        data = {"do": "status", "status": "in_progress", "note": "审计"}
    return expected, data


def test_the_auditor_changes_nothing(world):
    client, auditor = world.clients["auditor"], world.users["auditor"]
    writes = {key: row["auditor"] for key, row in API.items() if key[0] != "GET"}
    assert all(status in ("403", "409") for status in writes.values()), "the table lets the auditor write"
    assert all(cell in ("refused", "404") for cell in (r["auditor"] for r in CASE_ACTIONS.values()))

    requests: list[tuple[str, Any, str]] = []  # (what, callable, expected)
    for name in sorted(set(ADMIN) - AUDITOR_OWN_SETTINGS):
        expected, data = _auditor_admin_post(name)
        url = admin_url(name, world)
        requests.append((f"POST {url}", lambda url=url, data=data: client.post(url, data), expected))
    for action in sorted(CASE_ACTIONS):
        url = reverse("admin:processes_case_action", args=[world.cases["A"].pk, action])
        data = action_data(action, world)
        requests.append((f"POST {url}", lambda url=url, data=data: client.post(url, data), "refused"))
    request = RequestFactory().get("/admin/")
    request.user = auditor
    for model, model_admin in admin.site._registry.items():
        name = f"{model._meta.app_label}_{model._meta.model_name}_changelist"
        changelist = reverse(f"admin:{name}")
        # On a list the auditor may not see, the action is refused with the list (403); elsewhere it
        # runs (an export answers 200) or is refused inside (302 with a message): the snapshot decides.
        expected = "403" if ADMIN[name]["auditor"] == "403" else "any"
        for action in model_admin.get_actions(request):
            data = {
                "action": action,
                "_selected_action": [world.objects[model._meta.label_lower]],
                "index": "0",
            }
            requests.append(
                (
                    f"admin action {action} on {changelist}",
                    lambda u=changelist, d=data: client.post(u, d),
                    expected,
                )
            )
    for (method, path), expected in sorted(writes.items()):
        requests.append(
            (f"{method} {path}", lambda m=method, p=path: api_call(client, m, p, world), expected)
        )

    problems = []
    with isolated():
        events, handoffs = CaseEvent.objects.count(), Handoff.objects.count()
        before = snapshot()
        for what, call, expected in requests:
            response = call()
            if expected == "any":
                ok = response.status_code in (200, 302)
            else:
                ok = matches(expected, response, case_url=case_page(world))
            if not ok:
                problems.append(f"{what}: expected {expected}, got {described(response)}")
            after = snapshot()
            if changed := changed_tables(before, after):
                problems.append(f"{what}: the auditor changed {changed}")
                before = after
        counts = (CaseEvent.objects.count(), Handoff.objects.count())
        if counts != (events, handoffs):
            problems.append(f"(events, handoffs) went from {(events, handoffs)} to {counts}")
    assert len(requests) > 150, "the sweep lost its requests"
    assert not problems, "\n".join(problems)

    # The one exception stays the auditor's own: the preference is created for them, nobody else.
    with isolated():
        add = reverse("admin:processes_notificationpreference_add")
        response = client.post(add, {"kind": Notification.Kind.BREACHED, "email": "on"})
        owners = set(
            NotificationPreference.objects.filter(kind=Notification.Kind.BREACHED).values_list(
                "user__username", flat=True
            )
        )
    assert response.status_code == 302 and owners == {"auditor"}, (described(response), owners)
