"""INSEE and Cnaf sources, one package: the official readers (`base` for the shared format machinery,
`rp`, `filosofi`, `cog`, `epci`, `petite_enfance`, `caf`) and the loader that turns them into the
`indicateurs` tables (`loader`: its `Format`s, `LOADER` and `STEPS`, found by `etl/registry.py`)."""
