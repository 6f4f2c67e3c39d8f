"""The desk's additions to the case page and the queue: attachments, linked cases, reply templates,
the lead's bulk claim/assign with a result per item, and saved queue views. Thin: each change is one
call of a service (processes.attachments, processes.links, processes.bulk)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from core.messages import error_text
from processes import attachments, bulk, links
from processes.admin.common import ADMIN_CSS, form_error_text
from processes.downloads import attachment_response
from processes.models import Case, ReplyTemplate, SavedQueueView
from processes.rules import Action
from processes.selectors import user_label

DESK_JS = "processes/desk.js"

# Which action's form takes which kind of reply template, in which field.
REPLY_FIELDS = {
    Action.RESOLVE: (ReplyTemplate.Kind.RESOLUTION, "resolution"),
    Action.RETURN: (ReplyTemplate.Kind.RETURN_REASON, "reason"),
    Action.COMMENT: (ReplyTemplate.Kind.COMMENT, "text"),
}


# -- the case page --------------------------------------------------------------------------------
class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("file"))


class LinkForm(forms.Form):
    DUPLICATE, PARENT = "duplicate_of", "child_of"
    kind = forms.ChoiceField(
        label=_("link"),
        choices=[(DUPLICATE, _("this case is a duplicate of")), (PARENT, _("this case is a child of"))],
    )
    target = forms.CharField(label=_("case reference"), max_length=30)


def reply_templates(case: Case) -> dict[str, list[dict[str, str]]]:
    """The process's active templates by action, in the reader's language (one query)."""
    language = get_language()
    kinds = {kind: action for action, (kind, _field) in REPLY_FIELDS.items()}
    found: dict[str, list[dict[str, str]]] = {}
    for template in ReplyTemplate.objects.filter(process_id=case.process_id, is_active=True):
        found.setdefault(kinds[template.kind], []).append(
            {"title": template.title, "text": template.text(language)}
        )
    return found


def case_context(case: Case, user) -> dict[str, Any]:
    """What the case page shows of attachments and links: two queries and the templates' one."""
    return {
        "attachments": [
            {
                "attachment": a,
                "uploader": user_label(a.uploaded_by),
                "url": reverse("admin:processes_case_attachment", args=[case.pk, a.pk]),
            }
            for a in attachments.attachments_of(case)
        ],
        "links": [
            {**link, "url": reverse("admin:processes_case_change", args=[link["case"].pk])}
            for link in links.links_of(case)
        ],
        "attachment_form": AttachmentForm(),
        "attachment_url": reverse("admin:processes_case_attach", args=[case.pk]),
        "link_form": LinkForm(),
        "link_url": reverse("admin:processes_case_link", args=[case.pk]),
        "replies": reply_templates(case),
    }


def with_replies(rows: list[dict[str, Any]], replies: dict[str, list[dict[str, str]]]) -> None:
    for row in rows:
        if row["action"] in REPLY_FIELDS and replies.get(row["action"]):
            row["replies"] = replies[row["action"]]
            row["reply_field"] = REPLY_FIELDS[row["action"]][1]


def attach_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = model_admin.get_object(request, object_id)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
    else:
        upload = form.cleaned_data["file"]
        try:
            attachments.attachment_add(case=case, actor=request.user, file=upload, name=upload.name)
        except ApplicationError as exc:
            messages.error(request, error_text(exc, model=Case))
        else:
            messages.success(request, gettext("File added: %(name)s.") % {"name": upload.name})
    return HttpResponseRedirect(reverse("admin:processes_case_change", args=[case.pk]))


def download_view(model_admin, request, object_id, attachment_id):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        case_id, attachment_id = int(object_id), int(attachment_id)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    found = attachments.attachment_for_download(
        user=request.user, case_id=case_id, attachment_id=attachment_id
    )
    if found is None:
        raise Http404(gettext("No such file."))
    return attachment_response(request, found, via="admin")


def link_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    case = model_admin.get_object(request, object_id)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
    else:
        target = form.cleaned_data["target"].strip()
        try:
            if form.cleaned_data["kind"] == LinkForm.DUPLICATE:
                links.case_close_as_duplicate(case=case, primary=target, actor=request.user)
                messages.success(request, gettext("Closed as a duplicate of %(case)s.") % {"case": target})
            else:
                links.case_link_parent(case=case, parent=target, actor=request.user)
                messages.success(request, gettext("Linked as a child of %(case)s.") % {"case": target})
        except ApplicationError as exc:
            messages.error(request, error_text(exc, model=Case))
    return HttpResponseRedirect(reverse("admin:processes_case_change", args=[case.pk]))


# -- the queue --------------------------------------------------------------------------------------
class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [("me", _("mine")), ("none", _("nobody"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


@admin.action(description=_("Claim the selected handoffs for me"))
def bulk_claim(model_admin, request, queryset):
    ids = list(queryset.values_list("pk", flat=True)[: bulk.MAX_ITEMS])
    results = bulk.handoffs_bulk_claim(handoff_ids=ids, actor=request.user)
    return _results_page(model_admin, request, results, gettext("Claim"))


@admin.action(description=_("Assign the selected handoffs…"))
def bulk_assign(model_admin, request, queryset):
    ids = list(queryset.values_list("pk", flat=True)[: bulk.MAX_ITEMS])
    url = reverse("admin:processes_handoff_bulk_assign")
    return HttpResponseRedirect(f"{url}?{urlencode({'ids': ','.join(map(str, ids))})}")


class AssignForm(forms.Form):
    ids = forms.CharField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(label=_("assign to"), queryset=get_user_model().objects.none())

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = bulk.assignable_users(actor)
        self.fields["assignee"].label_from_instance = lambda u: user_label(u) or u.get_username()

    def clean_ids(self):
        raw = self.cleaned_data["ids"]
        ids = [int(part) for part in raw.split(",") if part.strip().isdigit()]
        if not ids:
            raise forms.ValidationError(_("Select at least one handoff."))
        return ids


def bulk_assign_view(model_admin, request):
    if not bulk.may_assign(request.user):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = AssignForm(data, actor=request.user, initial={"ids": request.GET.get("ids", "")})
    if request.method == "POST" and form.is_valid():
        results = bulk.handoffs_bulk_assign(
            handoff_ids=form.cleaned_data["ids"], actor=request.user, assignee=form.cleaned_data["assignee"]
        )
        return _results_page(model_admin, request, results, gettext("Assign"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Assign handoffs"),
        "form": form,
        "count": len([p for p in (form["ids"].value() or "").split(",") if p.strip()]),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/processes/handoff/bulk_assign.html", context)


def _results_page(model_admin, request, results, verb):
    rows = [
        {
            "result": r,
            "text": gettext("done")
            if r.ok
            else error_text(ApplicationError(r.message, code=r.code), model=Case),
        }
        for r in results
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Bulk result: %(verb)s") % {"verb": verb},
        "rows": rows,
        "done": sum(1 for r in results if r.ok),
        "refused": sum(1 for r in results if not r.ok),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/processes/handoff/bulk_result.html", context)


def save_view_view(model_admin, request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    name = (request.POST.get("name") or "").strip()[:80]
    # Re-encoded: only parameters reach the stored view and the redirect, whatever was posted.
    query = urlencode(parse_qsl((request.POST.get("query") or "").lstrip("?"), keep_blank_values=True))[:1000]
    queue = reverse("admin:processes_handoff_changelist")
    if not name:
        messages.error(request, gettext("Give the view a name."))
        return HttpResponseRedirect(f"{queue}?{query}")
    try:
        SavedQueueView.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
    except IntegrityError:
        messages.error(request, gettext("The view could not be saved; try again."))
    else:
        messages.success(request, gettext("View saved: %(name)s.") % {"name": name})
    return HttpResponseRedirect(f"{queue}?{query}")


@admin.register(SavedQueueView)
class SavedQueueViewAdmin(admin.ModelAdmin):
    """Each user's own saved queue views: open one, rename or delete it."""

    list_display = ["name", "open_link", "created_at"]
    fields = ["name", "query"]
    actions = None

    class Media:
        css = ADMIN_CSS

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False  # saved from the queue page, with its filters

    @admin.display(description=pgettext_lazy("saved view", "open"))
    def open_link(self, obj):
        return format_html(
            '<a href="{}?{}">{}</a>',
            reverse("admin:processes_handoff_changelist"),
            obj.query,
            pgettext("saved view", "open"),
        )


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """Maintained by the quality office (its role holds the model's permissions); staff read them in
    the case page's forms."""

    list_display = ["title", "process", "kind", "is_active", "order"]
    list_filter = ["process", "kind", "is_active"]
    search_fields = ["title", "text_zh", "text_en"]
    fields = ["process", "kind", "title", "text_zh", "text_en", "is_active", "order"]

    class Media:
        css = ADMIN_CSS
