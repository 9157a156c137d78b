"""Addresses and places: the city's address points and district polygons, parsing and fuzzy
matching of typed addresses, reverse geocoding, and which districts a point lies in.

Other capabilities use ``places.public`` only.
"""
