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

#: The search's work budget (zoneopt/solve/work.py), each scaled by ``solver.work_budget``: counted
#: work, so a plan does not depend on the machine's speed or load. Node cap of the feasibility MIP
#: that finds a first plan when today's plan breaks a rule (it stops at its first plan).
START_NODES = 5000
#: The same MIP beside the repair's elastic steps (zoneopt.solve.start_mip): its node cap, and its
#: safety stop in seconds of its own solving. Where it finds a plan it needs 0.3-1.4 s and under 100
#: nodes (800 x 40 and 1000 x 50, seats x0.93-0.95); where it finds none in 100 nodes it takes
#: 6-60 s, and the repair may have ended by then: the stop bounds that wait. The plan depends on
#: the clock only if the MIP would find one just around the stop (about three times the slowest
#: success).
START_MIP_NODES = 100
START_MIP_SAFETY_S = 4.0
#: When the elastic steps start, they wait until the MIP's worker has solved this many seconds
#: (or answered): a plan it finds then needs no elastic step at all.
START_MIP_HEAD_S = 1.0
#: Before that MIP, HiGHS's heuristics before the root LP (feasibility jump) with this many seeds
#: (the scenario's seed, then the next ones), each stopped at the root: on tight districts each
#: seed finds a plan or not in 0.1-1 s (2 s at 2,000 units); one of the first eight did on 9 of
#: 13 tight districts (500-2,000 units), seed 0 alone on 4. Each has its own safety stop, five
#: times the slowest measured.
START_JUMP_SEEDS = 8
START_JUMP_SAFETY_S = 10.0

#: Node cap of the diagnosis's elastic MIP (zoneopt.model.elastic), warm-started from the LP's
#: rounding improved by local search; it runs only when that answer does not reach the LP's bound.
#: A MIP stopped by the clock instead is not used, so the figures do not depend on the machine.
ELASTIC_NODES = 200
#: The local search before it (zoneopt.model.elastic_search): sweeps over the units at most, and
#: steps evaluated at most (moves, swaps, chains), scaled by ``solver.work_budget``. 500,000 steps
#: take about 3 s at 2,000 units; 1000 x 50 with seats x0.93 needs 112,000 to reach its LP bound.
#: The search stops at the first unit after the count, so its answer is the same on every machine.
ELASTIC_SEARCH_SWEEPS = 30
ELASTIC_SEARCH_STEPS = 500_000

#: ``contiguity_model = "closer_neighbour"`` solves one whole-district closer-neighbour MIP, capped
#: at FULL_MIP_NODES nodes up to FULL_MIP_MAX_PAIRS eligible (unit, school) pairs and at its root
#: above (benchmarks: ~600 pairs solved in 2-20 s; 800 units x 40 schools took HiGHS 25 s to a first
#: plan). The default model no longer runs it (it improved no plan on eleven districts).
FULL_MIP_MAX_PAIRS = 2500
FULL_MIP_NODES = 500

#: Large-neighbourhood steps: this many per school plus LNS_STEPS_BASE (the search usually stops
#: earlier, when no group of zones improves).
LNS_STEPS_PER_SCHOOL = 8
LNS_STEPS_BASE = 60

#: Zones re-optimised together in one large-neighbourhood step.
LNS_ZONES_PER_STEP = 4
#: The steps' counted work (zoneopt.solve.search.step_work): each solve's simplex iterations plus
#: LNS_SOLVE_WORK for building and presolving its model, at most what LNS_TIME_SHARE of the time
#: limit holds at LNS_WORK_RATE a second, so that the search ends on the same step on any machine
#: instead of wherever the clock stops it (300 x 15 seed 5, 3 km, two 60-s runs on an idle machine
#: gave D 0.04250 and 0.04197; 800 x 40 ended on the clock even at the default 300 s). Measured on a
#: 2-core EPYC, 2026-12-07: 9,000-10,000 a second on 300-2,000 units (6,700 a step at 300 x 15,
#: 2,300 at 2,000 x 100); the nominal rate is 80% of that, and the share leaves the annealing and a
#: slower or busier machine their time.
LNS_SOLVE_WORK = 1_000
LNS_WORK_RATE = 7_500
LNS_TIME_SHARE = 0.6

#: The closer-neighbour potentials a search step tries, in turn, until one improves the plan:
#: "hops" (hop distance from the home unit: zones may be redrawn from scratch) and "zones"
#: (zoneopt.model.potential: anchored on the plan's own zones, which then satisfy the rows, so a
#: step can keep a zone that "hops" would have to break). Measured in the session of 2026-12-01.
LNS_STEP_POTENTIALS = ("hops", "zones")
#: ... every step tries them all up to this many units. On larger districts a pass over every school
#: takes most of a run, the hop steps still improve most groups, and a second solve per failing step
#: only slows the pass (5000 x 250, 120 s: D 0.2448 with both from the start, 0.2420 with hops
#: only; 2000 x 100, 60 s: 0.2487 against 0.2502): there the second potential joins after the
#: first pass that finds nothing.
LNS_ALL_POTENTIALS_MAX_UNITS = 3_000

#: Branch-and-bound node cap of one large-neighbourhood sub-MIP.
LNS_NODE_LIMIT = 400

#: Rounds of cut separation in the exact-contiguity loop (each a node-capped MIP solve; a round's
#: root alone took 2-10 s on 100 units on a loaded two-core machine).
MAX_CUT_ROUNDS = 30

#: The proof's plan checkpoint: its best plan after this many exact rounds counts for the plan even
#: when the time limit then cuts the proof short. The rounds' plans, repaired where their zones fall
#: into pieces, are often a small district's best (300 units x 15 schools, 1.5 km: D 0.2277 after 6
#: rounds in 17 s where the search reached 0.2351 in 60 s; another seed 0.1452 in 38 s against
#: 0.1539). Six rounds keep the checkpoint inside a one-minute run there; what the proof finds after
#: it is used only when the proof spends its whole budget.
PROOF_PLAN_ROUNDS = 6

#: Node cap of one exact round, from a work of EXACT_ROUND_WORK pair-nodes (eligible pairs x nodes),
#: between EXACT_ROUND_NODES_MIN and _MAX: a small district's round usually ends, optimal for its
#: cuts, long before its cap (so the next round adds cuts); a large one's nodes are expensive. The
#: cap doubles after a round that adds no cut. Over all rounds: EXACT_NODES_ROUNDS rounds' worth.
EXACT_ROUND_WORK = 100_000
EXACT_ROUND_NODES_MIN = 20
EXACT_ROUND_NODES_MAX = 5000
EXACT_NODES_ROUNDS = 10

#: The exact phase runs in a worker process on a second core for problems of at least this many
#: eligible pairs (smaller ones are proven faster inline than a worker starts) ...
PARALLEL_MIN_PAIRS = 400
#: ... and at least this many seconds left (a worker needs about 2 s to start). The choice changes
#: where the proof runs, never its result.
PARALLEL_MIN_SECONDS = 8.0

#: A proof cannot gain where the root LP bound is below this share of the first plan's objective
#: (279 county tracts, no distance limit: 0 against 0.32); the second core then runs a second
#: search with the next seed instead, and the better plan is kept (zoneopt.solve.second_search).
HOPELESS_BOUND_SHARE = 0.05

#: The proof worker beats every WORKER_HEARTBEAT_S seconds. Silent for WORKER_SILENCE_S (or, before
#: its first beat, WORKER_START_GRACE_S: spawning and importing take seconds on a loaded machine), it
#: is taken for hung: the parent kills it and proves in process with the time left.
WORKER_HEARTBEAT_S = 1.0
WORKER_SILENCE_S = 20.0
WORKER_START_GRACE_S = 60.0

#: Above this many eligible pairs the exact cut loop proves little within a run (at 800 units x 40
#: schools it raised the root LP's 0.0718 to 0.0740; at 2,000 units one round does not finish), so
#: the second core solves search steps instead (measured at 800 x 40, 60 s: D 0.143 against 0.157
#: with the proof worker; at 300 x 15 and on the Albuquerque tracts the proof worker was better)
#: (zoneopt.solve.helper): the search then takes LNS_BATCH groups of zones that share no school at a
#: time, each solved against the same plan. The batch size follows from the problem alone, so the
#: plan is the same with the helper, without it (one core) and after it died.
PROOF_WORKER_MAX_PAIRS = 3_000
LNS_BATCH = 2
#: ... and the district has at least this many units. Many pairs on few units (no distance limit:
#: the 279 Sacramento county tracts x 24 schools have 6,144) keep each search step cheap and the
#: proof's rounds affordable: there the proof worker with sequential steps did better (60 s: D
#: 0.0881 against 0.0962 with the helper). Up to FEW_UNITS_MAX_PAIRS: beyond it the proof's rounds
#: are as slow as a large district's whatever the unit count (18,912 pairs: one round does not finish).
HELPER_MIN_UNITS = 500
FEW_UNITS_MAX_PAIRS = 10_000

#: PuLP solvers (CBC, commercial) take no node cap: each capped step (a search step, a cut round)
#: gets this share of the time left instead, at least PULP_STEP_MIN_SECONDS.
PULP_STEP_SHARE = 0.2
PULP_STEP_MIN_SECONDS = 2.0

#: Simulated annealing (zoneopt.solve.anneal) after the greedy local search. Its counted work is
#: ANNEAL_PROPOSALS_PER_UNIT proposed moves per unit of the district. A longer anneal keeps paying
#: (279 county tracts, no distance limit, seeds 0-2, anneal alone: mean D 0.0978 at 1,333 a unit,
#: 0.0786 at 4,000, 0.0600 at 12,000, 0.0544 at 40,000; whole 60-s runs, seeds 0-3: mean 0.0689 at
#: 20,000 a unit, 0.0531 at 50,000). Reheating from the best plan with a cooler
#: start, for the same total of 4,000 a unit, was worse on 2,000 x 100 (mean 0.2289-0.2329 against
#: 0.2271) and on the county (0.0820-0.0992 against 0.0786), better by 1-2% on 800 x 40: one anneal.
ANNEAL_PROPOSALS_PER_UNIT = 50_000
#: ... but at most the proposals that ANNEAL_TIME_SHARE of the time limit holds at ANNEAL_RATE
#: proposals a second (measured: 350,000-850,000 a second from 5,000 down to 279 units on a 2-core
#: EPYC), so the neighbourhood search keeps time after it: at 60 s, 12 million proposals (the cap
#: binds from 240 units: 800 units get 15,000 a unit, 5,000 units 2,400).
ANNEAL_RATE = 400_000
ANNEAL_TIME_SHARE = 0.5
#: The starting temperature as a multiple of a typical move's objective change (the median of the
#: non-zero changes over a sample), and the final one as a share of the start: 1e-2 beat 1e-3 (800 x 40,
#: seeds 0-2: mean D 0.1207 against 0.1234), and a factor of 2 beat 1 and 4 within the noise.
ANNEAL_START_FACTOR = 2.0
ANNEAL_FINAL_RATIO = 1e-2
#: Whether a move blocked by the target school's capacity may push one of its units on (a pair move):
#: at the end of a run on 2,000 units, 5,352 of 7,905 improving single moves were blocked by a full
#: school; with pushes, mean D over seeds 0-3 was 0.2258 in 17.9 s against 0.2278 in 15 s without.
ANNEAL_PUSH = True
