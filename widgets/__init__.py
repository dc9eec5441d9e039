"""ipywidgets explorers built only on ``toolkit``'s public functions.

One module per explorer; each takes toolkit results (or a path) and never
recomputes what ``toolkit`` exposes.
"""
