"""GEOGRAPHY functions over WKT text, as Python scalar functions on the DuckDB connection.

GEOGRAPHY values are stored and returned as WKT text in BigQuery's spelling (``POINT(1 2)``,
``LINESTRING(1 2, 3 4)``: no space before the parenthesis, shortest decimal numbers). Parsing and
planar geometry come from `shapely` (GEOS, shipped inside its wheel: nothing is downloaded at run
time; DuckDB's spatial extension is never loaded). Measures are on the sphere BigQuery uses
(radius 6,371,008.8 m): distances are great-circle distances between the closest points (found in
longitude/latitude space, exact for points), lengths sum great-circle segments, areas use the
spherical polygon formula. Predicates (``ST_CONTAINS``, ``ST_INTERSECTS``, …) are planar in
longitude/latitude: exact for points and for shapes small enough that edges are straight on a map.

``register(con)`` is called by :func:`emulator.bigquery.sql_functions.register`; the translator
maps ``ST_…`` calls onto the ``bq_st_…`` names in :data:`FUNCTIONS`.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["FUNCTIONS", "register", "EARTH_RADIUS_M"]

#: mean Earth radius BigQuery's spherical model uses, in meters
EARTH_RADIUS_M = 6371008.8


def _error(message: str) -> Exception:
    from emulator.bigquery.sql_errors import GoogleSQLError

    return GoogleSQLError(message)


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _coords(coords: Any) -> str:
    return ", ".join(f"{_number(c[0])} {_number(c[1])}" for c in coords)


def to_wkt(geom: Any) -> str:
    """BigQuery's WKT spelling of a shapely geometry."""
    kind = geom.geom_type
    if geom.is_empty:
        return "GEOMETRYCOLLECTION EMPTY" if kind == "GeometryCollection" else f"{kind.upper()} EMPTY"
    if kind == "Point":
        return f"POINT({_number(geom.x)} {_number(geom.y)})"
    if kind == "LineString":
        return f"LINESTRING({_coords(geom.coords)})"
    if kind == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        return "POLYGON(" + ", ".join(f"({_coords(r.coords)})" for r in rings) + ")"
    if kind == "MultiPoint":
        return "MULTIPOINT(" + ", ".join(f"{_number(p.x)} {_number(p.y)}" for p in geom.geoms) + ")"
    if kind == "MultiLineString":
        return "MULTILINESTRING(" + ", ".join(f"({_coords(g.coords)})" for g in geom.geoms) + ")"
    if kind == "MultiPolygon":
        return "MULTIPOLYGON(" + ", ".join(to_wkt(g)[len("POLYGON"):] for g in geom.geoms) + ")"
    return "GEOMETRYCOLLECTION(" + ", ".join(to_wkt(g) for g in geom.geoms) + ")"


def wkb_to_wkt(data: bytes) -> str:
    """BigQuery's WKT of a WKB value (loads of a GEOGRAPHY column from binary data, as from a DataFrame
    of shapely geometries); ``ValueError`` when the bytes are no WKB."""
    import shapely

    try:
        geom = shapely.from_wkb(bytes(data))
    except Exception as exc:  # noqa: BLE001 - shapely's GEOSException and friends
        raise ValueError(str(exc).splitlines()[0] if str(exc) else "invalid WKB") from None
    return to_wkt(geom)


def _parse(text: str | None, function: str = "ST_GeogFromText") -> Any:
    import shapely

    if text is None:
        return None
    try:
        geom = shapely.from_wkt(text)
    except Exception as exc:  # noqa: BLE001 - shapely's GEOSException and friends
        raise _error(f"{function} failed: {str(exc).splitlines()[0]}") from None
    _check_coordinates(geom)
    return geom


def _check_coordinates(geom: Any) -> None:
    import shapely

    if geom is None or geom.is_empty:
        return
    for x, y in shapely.get_coordinates(geom):
        if not -90.0 <= y <= 90.0:
            raise _error(f"Latitude must be between -90 and 90 degrees: {_number(y)}")
        if not -180.0 <= x <= 180.0:
            raise _error(f"Longitude must be between -180 and 180 degrees: {_number(x)}")


def st_geogpoint(longitude: float | None, latitude: float | None) -> str | None:
    if longitude is None or latitude is None:
        return None
    if not -90.0 <= latitude <= 90.0:
        raise _error("Latitude must be between -90 and 90 degrees.")
    longitude = ((longitude + 180.0) % 360.0) - 180.0 if not -180.0 <= longitude <= 180.0 else longitude
    return f"POINT({_number(longitude)} {_number(latitude)})"


def st_geogfromtext(text: str | None) -> str | None:
    geom = _parse(text)
    return None if geom is None else to_wkt(geom)


def st_geogfromgeojson(text: str | None) -> str | None:
    from shapely.geometry import shape

    if text is None:
        return None
    try:
        geom = shape(json.loads(text))
    except Exception as exc:  # noqa: BLE001 - bad JSON or bad GeoJSON
        raise _error(f"ST_GeogFromGeoJSON failed: {str(exc).splitlines()[0]}") from None
    _check_coordinates(geom)
    return to_wkt(geom)


def st_astext(text: str | None) -> str | None:
    return st_geogfromtext(text)


def st_asgeojson(text: str | None) -> str | None:
    from shapely.geometry import mapping

    geom = _parse(text)
    if geom is None:
        return None
    return json.dumps(mapping(geom), separators=(", ", ": ")).replace("(", "[").replace(")", "]")


def _point(text: str | None, function: str) -> Any:
    geom = _parse(text)
    if geom is None:
        return None
    if geom.geom_type != "Point" or geom.is_empty:
        raise _error(f"{function} expects a point GEOGRAPHY argument")
    return geom


def st_x(text: str | None) -> float | None:
    point = _point(text, "ST_X")
    return None if point is None else float(point.x)


def st_y(text: str | None) -> float | None:
    point = _point(text, "ST_Y")
    return None if point is None else float(point.y)


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _distance(a: Any, b: Any) -> float | None:
    from shapely.ops import nearest_points

    if a.is_empty or b.is_empty:
        return None
    if a.intersects(b):
        return 0.0
    pa, pb = nearest_points(a, b)
    return _haversine(pa.x, pa.y, pb.x, pb.y)


def st_distance(left: str | None, right: str | None) -> float | None:
    a, b = _parse(left), _parse(right)
    if a is None or b is None:
        return None
    return _distance(a, b)


def st_dwithin(left: str | None, right: str | None, meters: float | None) -> bool | None:
    distance = st_distance(left, right)
    if distance is None or meters is None:
        return None
    return distance <= meters


def _line_length(coords: Any) -> float:
    points = list(coords)
    return sum(_haversine(x1, y1, x2, y2) for (x1, y1), (x2, y2) in zip(points, points[1:]))


def _parts(geom: Any) -> list[Any]:
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def st_length(text: str | None) -> float | None:
    geom = _parse(text)
    if geom is None:
        return None
    return sum(_line_length(g.coords) for g in _parts(geom) if g.geom_type == "LineString")


def st_perimeter(text: str | None) -> float | None:
    geom = _parse(text)
    if geom is None:
        return None
    total = 0.0
    for g in _parts(geom):
        if g.geom_type == "Polygon":
            total += sum(_line_length(r.coords) for r in [g.exterior, *g.interiors])
    return total


def _ring_area(coords: Any) -> float:
    points = list(coords)
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:]):
        total += math.radians(x2 - x1) * (2 + math.sin(math.radians(y1)) + math.sin(math.radians(y2)))
    return abs(total) * EARTH_RADIUS_M ** 2 / 2


def st_area(text: str | None) -> float | None:
    geom = _parse(text)
    if geom is None:
        return None
    total = 0.0
    for g in _parts(geom):
        if g.geom_type == "Polygon":
            total += _ring_area(g.exterior.coords) - sum(_ring_area(r.coords) for r in g.interiors)
    return total


def _predicate(name: str) -> Any:
    def function(left: str | None, right: str | None) -> bool | None:
        a, b = _parse(left), _parse(right)
        if a is None or b is None:
            return None
        return bool(getattr(a, name)(b))
    return function


def st_numpoints(text: str | None) -> int | None:
    import shapely

    geom = _parse(text)
    return None if geom is None else int(shapely.get_num_coordinates(geom))


def st_geometrytype(text: str | None) -> str | None:
    geom = _parse(text)
    return None if geom is None else f"ST_{geom.geom_type}"


def st_isempty(text: str | None) -> bool | None:
    geom = _parse(text)
    return None if geom is None else bool(geom.is_empty)


def st_dimension(text: str | None) -> int | None:
    geom = _parse(text)
    if geom is None:
        return None
    if geom.is_empty:
        return -1
    return max({"Point": 0, "LineString": 1, "Polygon": 2}.get(g.geom_type, 0) for g in _parts(geom))


def st_centroid(text: str | None) -> str | None:
    geom = _parse(text)
    return None if geom is None else to_wkt(geom.centroid)


def st_makeline(left: str | None, right: str | None) -> str | None:
    from shapely.geometry import LineString

    a, b = _parse(left), _parse(right)
    if a is None or b is None:
        return None
    import shapely

    points = [*shapely.get_coordinates(a), *shapely.get_coordinates(b)]
    return to_wkt(LineString(points))


#: GoogleSQL name → (registered name, function, argument types, result type) with types as DuckDB names
FUNCTIONS: dict[str, tuple[str, Any, list[str], str]] = {
    "ST_GEOGPOINT": ("bq_st_geogpoint", st_geogpoint, ["DOUBLE", "DOUBLE"], "VARCHAR"),
    "ST_GEOGFROMTEXT": ("bq_st_geogfromtext", st_geogfromtext, ["VARCHAR"], "VARCHAR"),
    "ST_GEOGFROM": ("bq_st_geogfromtext", st_geogfromtext, ["VARCHAR"], "VARCHAR"),
    "ST_GEOGFROMGEOJSON": ("bq_st_geogfromgeojson", st_geogfromgeojson, ["VARCHAR"], "VARCHAR"),
    "ST_ASTEXT": ("bq_st_astext", st_astext, ["VARCHAR"], "VARCHAR"),
    "ST_ASGEOJSON": ("bq_st_asgeojson", st_asgeojson, ["VARCHAR"], "VARCHAR"),
    "ST_X": ("bq_st_x", st_x, ["VARCHAR"], "DOUBLE"),
    "ST_Y": ("bq_st_y", st_y, ["VARCHAR"], "DOUBLE"),
    "ST_DISTANCE": ("bq_st_distance", st_distance, ["VARCHAR", "VARCHAR"], "DOUBLE"),
    "ST_DWITHIN": ("bq_st_dwithin", st_dwithin, ["VARCHAR", "VARCHAR", "DOUBLE"], "BOOLEAN"),
    "ST_LENGTH": ("bq_st_length", st_length, ["VARCHAR"], "DOUBLE"),
    "ST_PERIMETER": ("bq_st_perimeter", st_perimeter, ["VARCHAR"], "DOUBLE"),
    "ST_AREA": ("bq_st_area", st_area, ["VARCHAR"], "DOUBLE"),
    "ST_CONTAINS": ("bq_st_contains", _predicate("contains"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_WITHIN": ("bq_st_within", _predicate("within"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_INTERSECTS": ("bq_st_intersects", _predicate("intersects"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_DISJOINT": ("bq_st_disjoint", _predicate("disjoint"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_TOUCHES": ("bq_st_touches", _predicate("touches"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_EQUALS": ("bq_st_equals", _predicate("equals"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_COVERS": ("bq_st_covers", _predicate("covers"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_COVEREDBY": ("bq_st_coveredby", _predicate("covered_by"), ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "ST_NUMPOINTS": ("bq_st_numpoints", st_numpoints, ["VARCHAR"], "BIGINT"),
    "ST_NPOINTS": ("bq_st_numpoints", st_numpoints, ["VARCHAR"], "BIGINT"),
    "ST_GEOMETRYTYPE": ("bq_st_geometrytype", st_geometrytype, ["VARCHAR"], "VARCHAR"),
    "ST_ISEMPTY": ("bq_st_isempty", st_isempty, ["VARCHAR"], "BOOLEAN"),
    "ST_DIMENSION": ("bq_st_dimension", st_dimension, ["VARCHAR"], "BIGINT"),
    "ST_CENTROID": ("bq_st_centroid", st_centroid, ["VARCHAR"], "VARCHAR"),
    "ST_MAKELINE": ("bq_st_makeline", st_makeline, ["VARCHAR", "VARCHAR"], "VARCHAR"),
}


def register(con: Any) -> None:
    """Register the ``bq_st_…`` functions on a DuckDB connection."""
    from duckdb import sqltypes

    done: set[str] = set()
    for registered, function, args, result in FUNCTIONS.values():
        if registered in done:
            continue
        done.add(registered)
        try:
            con.remove_function(registered)
        except Exception:  # noqa: BLE001 - not registered yet
            pass
        con.create_function(registered, function, [getattr(sqltypes, a) for a in args], getattr(sqltypes, result),
                            null_handling="special", side_effects=False)
