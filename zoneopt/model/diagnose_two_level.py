"""Why a two-level scenario (nested feeders, whole neighbourhoods) is impossible, before solving.

Each finding names the neighbourhood or the schools and says why, in a planner's words.
"""

from __future__ import annotations

import numpy as np

from ..district import District
from ..scenario import Scenario


def two_level_findings(district: District, scenario: Scenario, eligible: np.ndarray, data,
                       hoods, plain: np.ndarray | None = None) -> list[str]:
    """Sentences, one per certain impossibility (empty when none is found).

    Parameters
    ----------
    eligible
        The unit-school pairs allowed (after narrowing each kept neighbourhood to the schools every
        one of its units may go to).
    data
        :class:`zoneopt.feeders.FeederData` in nested mode, else None.
    hoods
        :class:`zoneopt.neighbourhoods.Neighbourhoods` when kept whole, else None.
    plain
        The pairs allowed before that narrowing (named in the findings).
    """
    plain = eligible if plain is None else plain
    out: list[str] = []
    ids, uids = district.school_ids, district.unit_ids
    cap = district.capacity * scenario.constraints.max_utilization
    if hoods is not None:
        for g, units in enumerate(hoods.groups()):
            name = hoods.names[g]
            homes = [(j, int(district.home_unit[j])) for j in range(district.n_schools)
                     if int(district.home_owner[j]) == j and district.home_unit[j] in set(units)]
            if len(homes) > 1:
                listed = " and ".join(f"{ids[j]} (unit {uids[h]})" for j, h in homes)
                out.append(
                    f"neighbourhood '{name}' holds the schools {listed}: kept whole it can go to only "
                    "one of them, but each school keeps its own unit; split it into two "
                    "neighbourhoods in the file or set keep_neighbourhoods = false")
                continue
            allowed = np.flatnonzero(eligible[units].all(axis=0))
            if len(allowed) == 0:
                examples = []
                for i in units[:3]:
                    own = np.flatnonzero(plain[i])
                    examples.append(f"unit {uids[i]} may go only to "
                                    + (", ".join(ids[own][:4]) if len(own) else "no school"))
                out.append(
                    f"neighbourhood '{name}' ({len(units)} units): no school may take all its units "
                    f"({'; '.join(examples)}), because of distance limits, locks, home units or "
                    "parts of the map with no path; relax those rules or set keep_neighbourhoods = false")
                continue
            students = int(district.students[units].sum())
            if students > cap[allowed].max() + 1e-6:
                j = int(allowed[np.argmax(cap[allowed])])
                out.append(
                    f"neighbourhood '{name}' has {students} students, more than any school it may go "
                    f"to can take (the largest, {ids[j]}, takes {int(cap[j])} at max_utilization "
                    f"{scenario.constraints.max_utilization:g}); raise the capacity or set "
                    "keep_neighbourhoods = false")
    if data is not None:
        mids = data.school_ids
        need = float(data.students.sum())
        room = float((data.capacity * scenario.feeders.middle_max_utilization).sum())
        if need > room + 1e-6:
            out.append(f"the middle schools take {int(room)} students at middle_max_utilization "
                       f"{scenario.feeders.middle_max_utilization:g}, fewer than the district's "
                       f"{int(need)} middle-school students; add capacity or raise "
                       "middle_max_utilization")
        forced: dict[int, list[int]] = {}
        for k in range(data.n_schools):
            if int(data.home_owner[k]) != k:
                continue
            own = np.flatnonzero(eligible[int(data.home_unit[k])])
            if len(own) == 1:
                forced.setdefault(int(own[0]), []).append(k)
        for j, ks in forced.items():
            if len(ks) > 1:
                listed = ", ".join(f"{mids[k]} (unit {uids[data.home_unit[k]]})" for k in ks)
                out.append(
                    f"the middle schools {listed} all lie in units that must go to elementary school "
                    f"{ids[j]}; nested, {ids[j]} feeds exactly one middle school, so the others "
                    "cannot hold their own zone; unlock those units or use feeders.mode = 'report'")
        if hoods is not None:
            for g, units in enumerate(hoods.groups()):
                inside = [k for k in range(data.n_schools) if int(data.home_owner[k]) == k
                          and data.home_unit[k] in set(units)]
                if len(inside) > 1:
                    out.append(
                        f"neighbourhood '{hoods.names[g]}' holds the middle schools "
                        f"{', '.join(mids[inside])}: kept whole it goes to one elementary school, "
                        "which feeds only one middle school; split the neighbourhood or set "
                        "keep_neighbourhoods = false")
    return out
