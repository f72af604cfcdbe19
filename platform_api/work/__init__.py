"""Background work: leased work that survives a dead worker, the filesystem broker of the
embedded default, and riding out a database outage. (The recovery loop that assembles the
apps' leased work is `platform_api/recovery.py`.)"""
