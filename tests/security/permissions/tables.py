"""The permissions matrix's tables: every admin page and every API
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

import importlib
from pathlib import Path
from typing import Any

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


# -- rows a newer change brings in its own test module -------------------------------------------------
# A test module under tests/ that defines `PERMISSIONS_MATRIX` adds the rows of its action here, in the
# columns above, with the valid input the matrix sends, so that one module holds a change's tests:
#   PERMISSIONS_MATRIX = {
#       "case_actions": "<a row of CASE_ACTIONS>",
#       "api": "<rows of API>",
#       "form_data": {action: lambda world: {field: value}},  # the form's fields, without the prefix
#       "api_bodies": {(method, path): lambda world: {...}},
#   }
def _contributions() -> list[dict[str, Any]]:
    tests = Path(__file__).resolve().parents[2]
    found = []
    for file in sorted(tests.rglob("test_*.py")):
        if file.parent != Path(__file__).parent and "PERMISSIONS_MATRIX =" in file.read_text():
            name = ".".join(file.relative_to(tests.parent).with_suffix("").parts)
            found.append(importlib.import_module(name).PERMISSIONS_MATRIX)
    return found


CONTRIBUTED = _contributions()
for _contribution in CONTRIBUTED:
    for _rows, _more in (
        (CASE_ACTIONS, _table(_contribution.get("case_actions", ""), ADMIN_ROLES, 1)),
        (API, _table(_contribution.get("api", ""), API_ROLES, 2)),
    ):
        assert not set(_rows) & set(_more), f"rows given twice: {sorted(set(_rows) & set(_more))}"
        _rows.update(_more)
FORM_DATA = {k: v for c in CONTRIBUTED for k, v in c.get("form_data", {}).items()}
API_BODIES = {k: v for c in CONTRIBUTED for k, v in c.get("api_bodies", {}).items()}

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
