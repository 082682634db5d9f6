"""handrec: handwritten character recognition, as a plain Python library.

Nothing here imports Hydra or MLflow, so every function can be called from a notebook.
"""

__version__ = "0.1.0"
