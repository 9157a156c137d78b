"""The Open311 GeoReport v2 server (server), its wire format (wire) and queries, API keys,
and the open-data export."""
