"""The recognition page: `make app`, or `streamlit run src/handrec/app/page.py`.

`page.py` is the Streamlit script and holds only layout; what it shows is computed by plain
functions in the other modules (reading an input, figures, the sample gallery, settings), so they
can be tested and reused without Streamlit.
"""
