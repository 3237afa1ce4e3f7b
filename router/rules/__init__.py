"""Rules: load and validate rules.yaml (load.py), match events (match.py), hot-reload (reload.py)."""
