"""Models that ship with handrec, so the page and the CLI read real handwriting before any
training. Each is a directory as `handrec.inference.save_model` writes it (model.keras and
classes.txt) with a README.md saying how it was made and how well it reads."""

from pathlib import Path

EMNIST36 = Path(__file__).parent / "emnist36"
"""The `best` recipe trained on EMNIST ByClass digits and uppercase letters (36 classes)."""
