"""The applications on top of handrec and experiments: the recognition page and the predict CLI.

    make app                      # or: streamlit run src/apps/page.py
    python -m apps.predict IMAGE

They may use both layers below: handrec to read images, experiments.models to resolve
`runs:/…` and `models:/…@alias` references into local model folders (imported only when such a
reference is given, so reading with a local model starts without MLflow or Hydra).

`page.py` is the Streamlit script and holds only layout; what it shows is computed by plain
functions in the other modules (reading an input, figures, the sample gallery, settings), so they
can be tested and reused without Streamlit.
"""
