"""The recognition page: choose a model, give it images, see what it reads and why.

    make app                                  # or: streamlit run src/apps/page.py
    HANDREC_MODEL=path/to/model.keras make app

This script draws the page's header at once and only then imports `apps.view` (the rest of the
page), which brings in TensorFlow: seconds on a small machine, shown as a spinner under the title
rather than as a blank page. Streamlit keeps imported modules, so later reruns skip the wait.
"""

from __future__ import annotations

import importlib

import streamlit as st

TITLE = "Handwritten character recognition"


def main() -> None:
    st.set_page_config(page_title="handrec · read handwriting", page_icon="✍️", layout="wide")
    st.title(f"✍️ {TITLE}")
    st.caption("Digits 0–9 and capital letters A–Z, one character or a line of them.")
    with st.spinner("Starting TensorFlow: a few seconds, the first time only…"):
        view = importlib.import_module("apps.view")
    view.main()


main()
