"""Serving the dashboard to a room: N Streamlit worker processes behind a Caddy reverse proxy.

A Streamlit session runs in one process, bound to one core by the interpreter lock: to serve more
people, `python -m serving --workers N` (`make serve WORKERS=N`) starts N processes on loopback ports,
each opening the same read-only database, and Caddy (Debian package `caddy`) in front of them on the
app's public port. See `serving/cluster.py` and docs/serving.md.
"""
