"""Layer 5, build: the command line (python -m helpers), the papermill pipeline that executes the
chapters and builds the book, and the Sphinx extension."""
