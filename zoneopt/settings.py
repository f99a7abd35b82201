"""Every tunable constant in one place (the osmnx habit), with the reason for its value."""

from __future__ import annotations

#: Two units are neighbours when their shared boundary is at least this long (metres), per CONTRACT.md.
MIN_SHARED_BOUNDARY_M = 0.01

#: Students and low-income counts must be whole numbers; values within this of an integer are accepted
#: (spreadsheets export 12 as 12.000000001).
INTEGER_TOLERANCE = 1e-6

#: Feasibility tolerance used by the plan checker on capacity, band and moved-share constraints, in
#: students. Solvers work in floating point; a plan that is off by less than this is not a violation.
CHECK_TOLERANCE = 1e-6

#: Relative share of the time budget spent finding plans before the exact-contiguity bound phase starts.
SEARCH_SHARE_OF_BUDGET = 0.6

#: Largest number of eligible (unit, school) pairs for which the search also solves the whole-district
#: closer-neighbour MIP (warm-started); above it HiGHS needs longer than the neighbourhood search
#: (benchmarks: ~600 pairs solved in 2-20 s; 800 units x 40 schools took HiGHS 25 s to a first plan).
FULL_MIP_MAX_PAIRS = 2500

#: Share of the remaining search time that whole-district MIP may take.
FULL_MIP_SHARE = 0.3

#: Zones re-optimised together in one large-neighbourhood step.
LNS_ZONES_PER_STEP = 4

#: Branch-and-bound node cap of one large-neighbourhood sub-MIP: bounds the work, keeps runs repeatable.
LNS_NODE_LIMIT = 400

#: Rounds of cut separation in the exact-contiguity loop before it gives up proving.
MAX_CUT_ROUNDS = 200

#: Share of the remaining time one round of the exact cut loop may take (at least 2 s).
CUT_ROUND_SHARE = 0.2
