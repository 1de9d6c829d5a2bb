from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yizhan.core import ratelimit
from yizhan.core.forms import apply_errors
from yizhan.orgs import lockout, services
from yizhan.orgs.forms import MoveForm, StaffCreateForm, StaffEditForm, TokenForm, UnitEditForm, UnitForm
from yizhan.orgs.models import ApiToken, Membership, Unit, UnitKind
from yizhan.orgs.scoping import get_for_user, scoped, staff_view


class LoginView(auth_views.LoginView):
    """Django's login with a lock-out on failures (yizhan.orgs.lockout)."""

    template_name = "orgs/login.html"
    redirect_authenticated_user = True

    def _username(self) -> str:
        return self.request.POST.get("username") or ""

    def post(self, request, *args, **kwargs):
        if wait := lockout.locked_for(request, self._username()):
            form = self.get_form()
            form.errors.clear()
            context = self.get_context_data(form=form, locked=True)
            return ratelimit.too_many_requests(request, wait, self.template_name, context)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        lockout.failed(self.request, self._username())
        return super().form_invalid(form)


@staff_view("read")
def home(request):
    unit = Unit.objects.get(pk=request.scope.unit_id)
    subtree = Unit.objects.subtree(unit).open()
    counts = dict(subtree.values_list("kind").annotate(n=Count("pk")).order_by())
    kinds = [(label, counts.get(value, 0)) for value, label in UnitKind.choices if counts.get(value)]
    children = unit.children.open().annotate(n_desc=Count("children")).order_by("code")
    from yizhan.core.nav import panels_for

    return render(
        request,
        "orgs/home.html",
        {
            "unit": unit,
            "kinds": kinds,
            "children": children,
            "panels": panels_for(request),
        },
    )


@staff_view("read")
def unit_list(request):
    q = (request.GET.get("q") or "").strip()[:50]
    root = Unit.objects.get(pk=request.scope.unit_id)
    children = root.children.annotate(n_desc=Count("children")).order_by("code")
    results = None
    if q:
        lowered = q.lower()
        results = (
            scoped(request.user, Unit)
            .filter(
                Q(name__icontains=q)
                | Q(name_en__icontains=q)
                | Q(code__iexact=q)
                | Q(code__istartswith=q)
                | Q(pinyin__startswith=lowered)
            )
            .order_by("level", "code")[:200]
        )
    return render(
        request, "orgs/unit_list.html", {"q": q, "root": root, "children": children, "results": results}
    )


@staff_view("read")
def unit_children(request, code):
    unit = get_for_user(request.user, Unit, code=code)
    children = unit.children.annotate(n_desc=Count("children")).order_by("code")
    return render(request, "orgs/_unit_children.html", {"unit": unit, "children": children})


@staff_view("read")
def unit_detail(request, code):
    unit = get_for_user(request.user, Unit, code=code)
    ancestors = [a for a in unit.ancestors() if request.scope.covers(a.path)]
    children = unit.children.annotate(n_desc=Count("children")).order_by("code")
    page = Paginator(children, 100).get_page(request.GET.get("page"))
    members = (
        Membership.objects.filter(unit=unit).select_related("user") if request.scope.can("admin") else []
    )
    from yizhan.audit.services import events_for
    from yizhan.core.nav import unit_panels_for

    events = events_for(request.user, unit)[:10]
    return render(
        request,
        "orgs/unit_detail.html",
        {
            "unit": unit,
            "ancestors": ancestors,
            "page": page,
            "members": members,
            "events": events,
            "unit_panels": unit_panels_for(request, unit),
        },
    )


def _unit_initial(unit):
    return {
        "code": unit.code,
        "kind": unit.kind,
        "name": unit.name,
        "name_en": unit.name_en,
        "address": unit.address,
        "lat": unit.lat,
        "lng": unit.lng,
        "crs": "wgs84",
        "opened_on": unit.opened_on,
        "closed_on": unit.closed_on,
        "revision": unit.revision,
    }


@staff_view()
def unit_edit(request, code):
    unit = get_for_user(request.user, Unit, "change", code=code)
    form = UnitEditForm(request.POST or None, initial=_unit_initial(unit))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_unit(unit, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orgs:unit_detail", code=form.cleaned_data["code"])
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Edit unit"),
            "cancel_url": reverse("orgs:unit_detail", args=[unit.code]),
        },
    )


@staff_view()
def unit_create(request, code):
    parent = get_for_user(request.user, Unit, "admin", code=code)
    form = UnitForm(request.POST or None, initial={"crs": "wgs84"})
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.create_unit(actor=request.user, parent=parent, **form.cleaned_data)
        except ValidationError as exc:
            # The parent is fixed by the page; the kind chosen is what does not fit under it.
            apply_errors(form, exc, aliases={"parent": "kind"})
        else:
            messages.success(request, _("Unit created."))
            return redirect("orgs:unit_detail", code=unit.code)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New unit under %(name)s") % {"name": parent.display_name},
            "cancel_url": reverse("orgs:unit_detail", args=[parent.code]),
        },
    )


@staff_view()
def unit_move(request, code):
    unit = get_for_user(request.user, Unit, "admin", code=code)
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new_parent = get_for_user(request.user, Unit, "admin", code=form.cleaned_data["parent"].strip())
        except Http404:
            form.add_error("parent", _("No unit with this code in your part of the tree."))
        else:
            try:
                services.move_unit(unit, new_parent, actor=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Unit moved."))
                return redirect("orgs:unit_detail", code=unit.code)
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("Move %(name)s") % {"name": unit.display_name},
            "intro": _("The unit moves with everything below it."),
            "submit_label": _("Move"),
            "cancel_url": reverse("orgs:unit_detail", args=[unit.code]),
        },
    )


@staff_view("admin")
def staff_list(request):
    memberships = (
        scoped(request.user, Membership)
        .select_related("user", "unit")
        .order_by("unit__path", "user__username")
    )
    q = (request.GET.get("q") or "").strip()[:50]
    if q:
        memberships = memberships.filter(
            Q(user__username__icontains=q) | Q(unit__name__icontains=q) | Q(unit__code__iexact=q)
        )
    page = Paginator(memberships, 50).get_page(request.GET.get("page"))
    return render(request, "orgs/staff_list.html", {"page": page, "q": q})


def _unit_in_scope(request, form, field="unit"):
    try:
        return get_for_user(request.user, Unit, "admin", code=form.cleaned_data[field].strip())
    except Http404:
        form.add_error(field, _("No unit with this code in your part of the tree."))
        return None


@staff_view("admin")
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        unit = _unit_in_scope(request, form)
        if unit is not None:
            data = {k: v for k, v in form.cleaned_data.items() if k != "unit"}
            try:
                services.create_staff(actor=request.user, unit=unit, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Staff member created."))
                return redirect("orgs:staff_list")
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": _("New staff member"),
            "cancel_url": reverse("orgs:staff_list"),
        },
    )


@staff_view()
def staff_edit(request, user_id):
    membership = get_for_user(
        request.user, Membership.objects.select_related("user", "unit"), "admin", user_id=user_id
    )
    form = StaffEditForm(
        request.POST or None,
        initial={
            "unit": membership.unit.code,
            "role": membership.role,
            "is_active": membership.user.is_active,
            "revision": membership.revision,
        },
    )
    if request.method == "POST" and form.is_valid():
        unit = _unit_in_scope(request, form)
        if unit is not None:
            try:
                services.set_membership(
                    actor=request.user,
                    user=membership.user,
                    unit=unit,
                    role=form.cleaned_data["role"],
                    is_active=form.cleaned_data["is_active"],
                    revision=form.cleaned_data["revision"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("orgs:staff_list")
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": membership.user.username,
            "cancel_url": reverse("orgs:staff_list"),
        },
    )


@staff_view("read")
def token_list(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = services.create_api_token(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "orgs/tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})


@require_POST
@staff_view("read")
def token_revoke(request, pk):
    try:
        token = ApiToken.objects.get(pk=pk, user=request.user)
    except (ApiToken.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    services.revoke_api_token(token, actor=request.user)
    messages.success(request, _("Token revoked."))
    return redirect("orgs:token_list")
