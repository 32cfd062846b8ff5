"""Benchmarks: `python -m bench <what> [options]` prints medians and ratios (no timed test).

One module per benchmark (`reference`, `fragilite`, `export`, `publication`, `load`), each with a
`main(argv)`. Not part of the installed package; extra dependencies in the `[bench]` extra.
"""
