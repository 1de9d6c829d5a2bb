"""Compliance of stations with the standards in force.

A standard applies to every station that is not closed, or — when it names a theme — to the
stations of that theme. A station meets it when every required facility is `yes` and not out of
order; what it lacks is the rest (absent, unknown, or out of order). The data is loaded in a few
queries per subtree and evaluated in memory, so reports over thousands of stations stay quick.
"""

from dataclasses import dataclass, field

from yizhan.stations.models import Facility, Standard, Station, StationFacility, StationStatus


@dataclass(frozen=True)
class Rule:
    id: int
    code: str
    version: str
    name: str
    theme_id: int | None
    facility_ids: tuple[int, ...]

    def applies(self, facts: "StationFacts") -> bool:
        return facts.status != StationStatus.CLOSED and (
            self.theme_id is None or self.theme_id in facts.theme_ids
        )

    def lacking(self, facts: "StationFacts") -> list[int]:
        return [fid for fid in self.facility_ids if fid not in facts.usable]


@dataclass
class StationFacts:
    id: int
    code: str
    name: str
    unit_id: int
    unit_path: str
    status: str
    sign_installed_on: object
    verified_at: object
    theme_ids: set[int] = field(default_factory=set)
    usable: set[int] = field(default_factory=set)
    broken: set[int] = field(default_factory=set)


def load_rules() -> list[Rule]:
    standards = Standard.objects.current().prefetch_related("facilities")
    return [
        Rule(
            s.id,
            s.code,
            s.version,
            s.display_name,
            s.theme_id,
            tuple(f.id for f in sorted(s.facilities.all(), key=lambda f: (f.sort_order, f.code))),
        )
        for s in standards
    ]


def load_facts(stations) -> list[StationFacts]:
    """Facts for a queryset of stations, in three queries."""
    facts = {
        row[0]: StationFacts(*row)
        for row in stations.order_by("code").values_list(
            "id", "code", "name", "unit_id", "unit__path", "status", "sign_installed_on", "verified_at"
        )
    }
    if not facts:
        return []
    ids = stations.values("id")
    for station_id, theme_id in Station.themes.through.objects.filter(station_id__in=ids).values_list(
        "station_id", "theme_id"
    ):
        facts[station_id].theme_ids.add(theme_id)
    for station_id, facility_id, out_of_order in StationFacility.objects.filter(
        station_id__in=ids, state="yes"
    ).values_list("station_id", "facility_id", "out_of_order"):
        (facts[station_id].broken if out_of_order else facts[station_id].usable).add(facility_id)
    return list(facts.values())


@dataclass
class Result:
    standard: Standard | Rule
    applies: bool
    met: bool
    lacking: list[Facility]
    out_of_order: list[Facility]


def station_compliance(station: Station) -> list[Result]:
    """Each standard in force against one station, with what it lacks."""
    rules = load_rules()
    facts = load_facts(Station.objects.filter(pk=station.pk))[0]
    facilities = Facility.objects.in_bulk()
    out = []
    for rule in rules:
        applies = rule.applies(facts)
        lacking = rule.lacking(facts) if applies else []
        out.append(
            Result(
                standard=rule,
                applies=applies,
                met=applies and not lacking,
                lacking=[facilities[fid] for fid in lacking if fid not in facts.broken],
                out_of_order=[facilities[fid] for fid in lacking if fid in facts.broken],
            )
        )
    return out
