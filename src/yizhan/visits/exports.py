"""Spreadsheet exports: rows built here, written by yizhan.core.tabular (formula-safe)."""

from django.utils.translation import gettext as _

from yizhan.core.tabular import write_xlsx
from yizhan.visits.stats import Report


def statistics_xlsx(r: Report) -> bytes:
    period = f"{r.start.isoformat()} – {r.end.isoformat()}"
    counts = [_("check-ins"), _("tallied by staff"), _("total")]
    sheets = {
        _("Summary"): (
            [_("unit"), _("period"), _("stations"), *counts],
            [
                [
                    r.unit.name,
                    period,
                    r.stations_count,
                    r.totals["checkins"],
                    r.totals["tallied"],
                    r.totals["total"],
                ]
            ],
        ),
        _("Over time"): (
            [_("from"), *counts],
            [[p["label"], p["checkins"], p["tallied"], p["total"]] for p in r.series],
        ),
        _("Groups"): (
            [_("visitor group"), *counts],
            [[str(g["label"] or _("not said")), g["checkins"], g["tallied"], g["total"]] for g in r.groups],
        ),
        _("Services"): (
            [_("service"), _("check-ins")],
            [[str(s["label"]), s["checkins"]] for s in r.services],
        ),
        _("Units below"): (
            [_("code"), _("unit"), _("stations"), *counts],
            [
                [c["unit"].code, c["unit"].name, c["stations"], c["checkins"], c["tallied"], c["total"]]
                for c in r.children
            ],
        ),
        _("Top stations"): (
            [_("code"), _("station"), *counts],
            [[s["code"], s["name"], s["checkins"], s["tallied"], s["total"]] for s in r.top],
        ),
        _("Bottom stations"): (
            [_("code"), _("station"), *counts],
            [[s["code"], s["name"], s["checkins"], s["tallied"], s["total"]] for s in r.bottom],
        ),
        _("Year on year"): (
            [_("month"), _("days compared"), str(r.end.year - 1), str(r.end.year), _("change %")],
            [
                [
                    m["month"],
                    _("whole month")
                    if m["to_day"] is None
                    else (f"1–{m['to_day']}" if m["to_day"] else _("no complete day yet")),
                    m["last"],
                    m["this"],
                    m["change"],
                ]
                for m in r.year_on_year
            ],
        ),
        _("Hours"): ([_("hour"), _("check-ins")], [[h["hour"], h["checkins"]] for h in r.hours]),
    }
    return write_xlsx(sheets)
