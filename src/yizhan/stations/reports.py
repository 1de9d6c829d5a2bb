"""Coverage and compliance for any unit's subtree, roll-out wave progress, and their xlsx export."""

from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.orgs.models import Unit
from yizhan.stations.compliance import Rule, StationFacts, load_facts, load_rules
from yizhan.stations.models import Facility, RolloutWave, Station, StationStatus


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Totals:
    unit: Unit | None
    outlets: int = 0
    outlets_with_station: int = 0
    stations: int = 0
    signed: int = 0
    verified: int = 0
    # rule id -> [stations it applies to, stations meeting it]
    per_standard: dict[int, list[int]] = field(default_factory=dict)

    @property
    def coverage_pct(self):
        return pct(self.outlets_with_station, self.outlets)

    def standard_cells(self, rules: list[Rule]) -> list[tuple[int, int, float | None]]:
        cells = []
        for rule in rules:
            applicable, met = self.per_standard.get(rule.id, (0, 0))
            cells.append((applicable, met, pct(met, applicable)))
        return cells


@dataclass
class StationRow:
    facts: StationFacts
    unit: Unit
    results: list[tuple[bool, bool, list[Facility]]]  # per rule: applies, met, lacking


@dataclass
class CoverageReport:
    root: Unit
    rules: list[Rule]
    totals: Totals
    rows: list[Totals]
    missing: list[tuple[Facility, int]]
    stations: list[StationRow]


def _child_id(path: str, depth: int) -> int | None:
    parts = path.strip("/").split("/")
    return int(parts[depth]) if len(parts) > depth else None


def coverage_report(root: Unit, *, with_stations: bool = False) -> CoverageReport:
    """Outlets, outlets with a station, stations meeting each standard and the missing facilities
    ranked, for `root`'s subtree, with one row per child unit for drill-down."""
    rules = load_rules()
    facilities = Facility.objects.in_bulk()
    children = {u.pk: Totals(u) for u in root.children.filter(closed_on__isnull=True).order_by("code")}
    totals = Totals(root)
    depth = root.level + 1

    def rows_for(path: str) -> list[Totals]:
        child = children.get(_child_id(path, depth))
        return [totals, child] if child is not None else [totals]

    outlets = Unit.objects.subtree(root).outlets().filter(closed_on__isnull=True)
    outlet_paths = dict(outlets.values_list("id", "path"))
    for path in outlet_paths.values():
        for row in rows_for(path):
            row.outlets += 1

    stations = Station.objects.subtree(root).exclude(status=StationStatus.CLOSED)
    facts = load_facts(stations)
    covered: set[int] = set()
    missing: Counter = Counter()
    station_rows = []
    units = Unit.objects.in_bulk({f.unit_id for f in facts}) if with_stations else {}
    for fact in facts:
        rows = rows_for(fact.unit_path)
        for row in rows:
            row.stations += 1
            row.signed += fact.sign_installed_on is not None
            row.verified += fact.verified_at is not None
        if fact.unit_id in outlet_paths and fact.unit_id not in covered:
            covered.add(fact.unit_id)
            for row in rows:
                row.outlets_with_station += 1
        lacking_any: set[int] = set()
        results = []
        for rule in rules:
            applies = rule.applies(fact)
            lacking = rule.lacking(fact) if applies else []
            lacking_any.update(lacking)
            for row in rows:
                cell = row.per_standard.setdefault(rule.id, [0, 0])
                cell[0] += applies
                cell[1] += applies and not lacking
            results.append((applies, applies and not lacking, [facilities[f] for f in lacking]))
        missing.update(lacking_any)
        if with_stations:
            station_rows.append(StationRow(fact, units[fact.unit_id], results))
    ranked = [(facilities[fid], n) for fid, n in missing.most_common()]
    return CoverageReport(root, rules, totals, list(children.values()), ranked, station_rows)


# --- roll-out waves -----------------------------------------------------------------------------


@dataclass
class WaveProgress:
    wave: RolloutWave
    total: int
    done: int
    rows: list[tuple[Unit, int, int]]  # per child of the wave's unit
    pending: list[Unit]

    @property
    def pct(self):
        return pct(self.done, self.total)

    @property
    def overdue(self) -> bool:
        return self.done < self.total and self.wave.target_date < timezone.localdate()


def wave_progress(wave: RolloutWave, *, pending_limit: int = 50) -> WaveProgress:
    """An outlet of the wave is done when a station of it (not closed) meets the wave's standard."""
    standard = wave.standard
    rule = Rule(
        standard.id,
        standard.code,
        standard.version,
        standard.display_name,
        standard.theme_id,
        tuple(standard.facilities.values_list("id", flat=True)),
    )
    outlets = list(wave.outlets.order_by("path"))
    outlet_ids = {u.pk for u in outlets}
    facts = load_facts(Station.objects.filter(unit_id__in=outlet_ids).exclude(status=StationStatus.CLOSED))
    done_ids = {f.unit_id for f in facts if rule.applies(f) and not rule.lacking(f)}
    depth = wave.unit.level + 1
    children = {u.pk: u for u in Unit.objects.filter(parent=wave.unit)}
    per_child: dict[int, list[int]] = {}
    for outlet in outlets:
        child = _child_id(outlet.path, depth)
        cell = per_child.setdefault(child if child in children else wave.unit.pk, [0, 0])
        cell[0] += 1
        cell[1] += outlet.pk in done_ids
    names = {**children, wave.unit.pk: wave.unit}
    rows = sorted(((names[k], t, d) for k, (t, d) in per_child.items()), key=lambda r: r[0].code)
    pending = [u for u in outlets if u.pk not in done_ids][:pending_limit]
    return WaveProgress(wave, len(outlets), len(done_ids & outlet_ids), rows, pending)


# --- xlsx export --------------------------------------------------------------------------------


def report_workbook(report: CoverageReport, waves: list[WaveProgress]) -> bytes:
    from yizhan.core.tabular import write_xlsx

    rules = report.rules
    std_headers = []
    for rule in rules:
        std_headers += [
            _("%(standard)s: applies") % {"standard": rule.name},
            _("%(standard)s: met") % {"standard": rule.name},
            _("%(standard)s: %%") % {"standard": rule.name},
        ]
    summary_headers = [
        _("Unit code"),
        _("Unit"),
        _("Outlets"),
        _("Outlets with a station"),
        _("Coverage %"),
        _("Stations"),
        _("Signed"),
        _("Verified"),
        *std_headers,
    ]

    def summary_rows():
        for row in [report.totals, *report.rows]:
            cells = [c for triple in row.standard_cells(rules) for c in triple]
            yield [
                row.unit.code,
                row.unit.display_name,
                row.outlets,
                row.outlets_with_station,
                row.coverage_pct,
                row.stations,
                row.signed,
                row.verified,
                *cells,
            ]

    station_headers = [_("Station code"), _("Station"), _("Outlet code"), _("Status"), _("Signed on")]
    for rule in rules:
        station_headers += [rule.name, _("%(standard)s: lacking") % {"standard": rule.name}]

    def station_rows():
        for row in report.stations:
            cells = []
            for applies, met, lacking in row.results:
                cells.append(_("met") if met else (_("not met") if applies else _("n/a")))
                cells.append("、".join(f.name for f in lacking))
            yield [
                row.facts.code,
                row.facts.name,
                row.unit.code,
                StationStatus(row.facts.status).label,
                row.facts.sign_installed_on,
                *cells,
            ]

    sheets = {
        _("Summary"): (summary_headers, summary_rows()),
        _("Missing facilities"): (
            [_("Facility code"), _("Facility"), _("Stations lacking it")],
            ([f.code, f.name, n] for f, n in report.missing),
        ),
        _("Stations"): (station_headers, station_rows()),
        _("Roll-out waves"): (
            [_("Wave"), _("Standard"), _("Target date"), _("Outlets"), _("Done"), _("Done %")],
            (
                [
                    p.wave.display_name,
                    p.wave.standard.display_name,
                    p.wave.target_date,
                    p.total,
                    p.done,
                    p.pct,
                ]
                for p in waves
            ),
        ),
    }
    return write_xlsx(sheets)
