"""Travel on real roads: walking and driving distances from OpenStreetMap, walk zones, barriers.

- :mod:`zoneopt.travel.network`: the walk and drive networks of an OpenStreetMap extract or an osmnx
  GraphML file.
- :mod:`zoneopt.travel.matrix`: the travel matrix (``unit_id,school_id,distance_km,minutes``).
- :mod:`zoneopt.travel.barriers`: freeways, railways and rivers that cut unit adjacency.
- :mod:`zoneopt.travel.walkzones`: units that keep their school because they can walk to it.
"""

from .matrix import SNAP_WARN_KM, TravelWarning, matrix, write_matrix
from .network import Network, grid_network, read_network
from .walkzones import prepare_district, walk_zone_mask

__all__ = ["matrix", "write_matrix", "read_network", "grid_network", "Network", "TravelWarning",
           "SNAP_WARN_KM", "prepare_district", "walk_zone_mask"]
