import importlib.util

from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.i18n import set_language

from yizhan.api import api
from yizhan.core.crossorigin import public_form
from yizhan.locator.api import stations_nearby

# The site's own pages for 404 and 403, with its navigation (core.views.SiteErrorPagesMiddleware
# shows the 404 one in debug too).
handler404 = "yizhan.core.views.not_found"
handler403 = "yizhan.core.views.forbidden"

urlpatterns = [
    # The locator's hot path, resolved first and served without ninja's dispatch (a third of its
    # cost then); the API's OpenAPI document still describes it (a test checks).
    path("api/v1/stations/nearby", require_safe(stations_nearby)),
    # Then the public locator's pages: Django tries patterns in order, and the list page ("/")
    # came after ~110 others (a fifth of a kept page's cost). Its paths overlap no other app's.
    path("", include("yizhan.locator.urls")),
    # Django's language view, as a public form (yizhan.core.crossorigin): checked by origin, not by a token.
    path("i18n/setlang/", public_form(set_language), name="set_language"),
    path("", include("yizhan.core.urls")),
    path("manage/", include("yizhan.orgs.urls")),
    path("manage/audit/", include("yizhan.audit.urls")),
    path("api/v1/", api.urls),
]

# Later apps carry their own full paths (public ones at the root, staff ones under /manage/).
for app in (
    "stations",
    "visits",
    "remittance",
    "operations",
    "cases",
    "jobs",
    "notify",
    "supplies",
    "events",
    "planning",
    "training",
    "mobile",
):
    if importlib.util.find_spec(f"yizhan.{app}.urls") is not None:
        urlpatterns.append(path("", include(f"yizhan.{app}.urls")))
