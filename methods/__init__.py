"""Methods (fragility score, coverage, unfavourable-indicator counts, secrecy): pure, tested functions."""
