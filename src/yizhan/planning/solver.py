"""Which outlets to equip next: the maximal covering location problem (Church & ReVelle 1974).

Given demand points with weights, candidate sites and a radius, choose K candidates so that the
weight of the demand within the radius of at least one chosen site is largest. Demand points
that the same candidates cover are merged first (one variable per distinct set), then:

- greedy: take the candidate adding the most uncovered weight, K times (lazily re-evaluated: a
  candidate's gain only shrinks). It is within 1 − 1/e of the optimum and usually much closer;
- exact: the integer program  max Σ w_g·y_g  s.t.  y_g ≤ Σ_{j∈S_g} x_j,  Σ x_j ≤ K,  x binary,
  0 ≤ y ≤ 1, solved by HiGHS (highspy) from the greedy answer, with the gap to optimal it proves.

Positions are 3-D unit vectors (as in the locator's index): chord distances, no seams.
"""

import heapq
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8


def unit_vectors(lat, lng) -> np.ndarray:
    la, ln = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lng, dtype=float))
    return np.column_stack((np.cos(la) * np.cos(ln), np.cos(la) * np.sin(ln), np.sin(la)))


def chord(radius_m: float) -> float:
    return 2 * math.sin(radius_m / (2 * EARTH_RADIUS_M))


def metres(chord_length):
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(np.asarray(chord_length) / 2, 1.0))


def nearest_distance_m(points_xyz: np.ndarray, sites_xyz: np.ndarray) -> np.ndarray:
    """Each point's distance to its nearest site (inf when there are no sites)."""
    if not len(sites_xyz):
        return np.full(len(points_xyz), np.inf)
    distance, _index = cKDTree(sites_xyz).query(points_xyz, k=1)
    return metres(distance)


@dataclass
class Problem:
    weights: np.ndarray  # per group of demand points covered by the same candidates
    groups: list[np.ndarray]  # candidate indices covering each group
    candidates: int
    demand_points: int = 0
    total_weight: float = 0.0  # all demand given, covered by some candidate or not


def build(demand_xyz, demand_weight, candidate_xyz, radius_m: float) -> Problem:
    """The covering problem: which candidates lie within `radius_m` of each demand point, with
    points of the same set merged (their weights added)."""
    demand_weight = np.asarray(demand_weight, dtype=float)
    total = float(demand_weight.sum())
    if not len(demand_xyz) or not len(candidate_xyz):
        return Problem(np.zeros(0), [], len(candidate_xyz), len(demand_xyz), total)
    pairs = (
        cKDTree(candidate_xyz)
        .sparse_distance_matrix(cKDTree(demand_xyz), chord(radius_m), output_type="ndarray")
        .astype([("i", np.int64), ("j", np.int64), ("v", float)])
    )
    cand, demand = pairs["i"], pairs["j"]
    order = np.lexsort((cand, demand))
    cand, demand = cand[order], demand[order]
    if not len(demand):
        return Problem(np.zeros(0), [], len(candidate_xyz), len(demand_xyz), total)
    starts = np.flatnonzero(np.r_[True, demand[1:] != demand[:-1]])
    ends = np.r_[starts[1:], len(demand)]
    merged: dict[bytes, int] = {}
    weights: list[float] = []
    groups: list[np.ndarray] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        members = cand[start:end]
        key = members.tobytes()
        g = merged.get(key)
        if g is None:
            merged[key] = len(groups)
            groups.append(members)
            weights.append(float(demand_weight[demand[start]]))
        else:
            weights[g] += float(demand_weight[demand[start]])
    return Problem(np.array(weights), groups, len(candidate_xyz), len(demand_xyz), total)


@dataclass
class Answer:
    chosen: list[int]  # candidate indices
    covered: float  # weight covered
    seconds: float = 0.0
    gap: float = 0.0  # proven relative gap to optimal (0 = optimal)
    bound: float = 0.0  # the best bound the solver proved on the optimum
    status: str = ""
    gains: list[float] = field(default_factory=list)  # weight each choice added (greedy order)


def covered_weight(problem: Problem, chosen) -> float:
    picked = np.zeros(problem.candidates, dtype=bool)
    picked[list(chosen)] = True
    return float(sum(w for w, g in zip(problem.weights, problem.groups, strict=True) if picked[g].any()))


def _by_candidate(problem: Problem) -> list[list[int]]:
    covers: list[list[int]] = [[] for _ in range(problem.candidates)]
    for g, members in enumerate(problem.groups):
        for j in members.tolist():
            covers[j].append(g)
    return covers


def greedy(problem: Problem, k: int) -> Answer:
    started = time.perf_counter()
    covers = _by_candidate(problem)
    weights = problem.weights.tolist()
    done = [False] * len(weights)
    heap = [(-sum(weights[g] for g in gs), j) for j, gs in enumerate(covers) if gs]
    heapq.heapify(heap)
    chosen, gains = [], []
    while heap and len(chosen) < k:
        negative, j = heapq.heappop(heap)
        gain = sum(weights[g] for g in covers[j] if not done[g])
        if heap and gain < -heap[0][0] - 1e-9:
            heapq.heappush(heap, (-gain, j))  # stale: its gain shrank since it was pushed
            continue
        if gain <= 0:
            break
        chosen.append(j)
        gains.append(gain)
        for g in covers[j]:
            done[g] = True
    return Answer(chosen, float(sum(gains)), time.perf_counter() - started, status="greedy", gains=gains)


def exact(problem: Problem, k: int, *, time_limit: float = 55.0, start: Answer | None = None) -> Answer:
    """The optimum by HiGHS (or the best found within `time_limit`, with its proven gap)."""
    import highspy

    started = time.perf_counter()
    used = sorted({j for members in problem.groups for j in members.tolist()})
    if not used or k <= 0:
        return Answer([], 0.0, time.perf_counter() - started, status="optimal")
    column = {j: c for c, j in enumerate(used)}
    n_x, n_y = len(used), len(problem.groups)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", 1e-6)
    inf = highspy.kHighsInf
    # Columns: x_0..x_{n_x-1} (binary), then y_0..y_{n_y-1} in [0, 1].
    cost = np.r_[np.zeros(n_x), problem.weights]
    h.addVars(n_x + n_y, np.zeros(n_x + n_y), np.ones(n_x + n_y))
    h.changeColsCost(n_x + n_y, np.arange(n_x + n_y, dtype=np.int32), cost)
    h.changeColsIntegrality(
        n_x, np.arange(n_x, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n_x)
    )
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    # y_g − Σ x_j ≤ 0, one row per group.
    starts, indices, values = [], [], []
    for g, members in enumerate(problem.groups):
        starts.append(len(indices))
        indices.append(n_x + g)
        values.append(1.0)
        for j in members.tolist():
            indices.append(column[j])
            values.append(-1.0)
    h.addRows(
        n_y,
        np.full(n_y, -inf),
        np.zeros(n_y),
        len(indices),
        np.array(starts, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        np.array(values),
    )
    # Σ x_j ≤ K.
    h.addRow(-inf, float(k), n_x, np.arange(n_x, dtype=np.int32), np.ones(n_x))
    if start is not None and start.chosen:
        solution = highspy.HighsSolution()
        values = np.zeros(n_x + n_y)
        for j in start.chosen:
            if j in column:
                values[column[j]] = 1.0
        picked = np.zeros(problem.candidates, dtype=bool)
        picked[start.chosen] = True
        for g, members in enumerate(problem.groups):
            values[n_x + g] = 1.0 if picked[members].any() else 0.0
        solution.col_value = values.tolist()
        solution.value_valid = True
        h.setSolution(solution)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.asarray(h.getSolution().col_value[:n_x])
    chosen = [used[c] for c in np.flatnonzero(x > 0.5).tolist()]
    covered = covered_weight(problem, chosen)
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else covered
    gap = max(0.0, (bound - covered) / bound) if bound > 0 else 0.0
    return Answer(chosen, covered, time.perf_counter() - started, gap=gap, bound=bound, status=status)
