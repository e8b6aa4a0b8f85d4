"""Sphinx configuration of the course website. tools/build_site.py stages it with the pages (`make site`)."""
import os

project = "Credit Attribution"
author = "the Credit Attribution course"
html_title = "Credit Attribution"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
exclude_patterns = ["_generated", "**.ipynb_checkpoints"]

# MyST: $...$ and $$...$$ mathematics in the notebooks' Markdown, typeset by MathJax in the browser.
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# As in Jupyter: $$...$$ inside a paragraph (no blank line around it) is display mathematics too.
myst_dmath_double_inline = True

# The reader's notebooks carry the stored outputs of solutions/ (which make test-solutions checks); the worked
# answers are solutions/ itself. SITE_EXECUTE=1 executes the reader's notebooks instead, cached (docs/site.md).
if os.environ.get("SITE_EXECUTE", "") not in ("", "0"):
    nb_execution_mode = "cache"
    nb_execution_excludepatterns = ["answers/*"]
else:
    nb_execution_mode = "off"
nb_execution_cache_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "site-cache")
nb_execution_timeout = 1800
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# The API from the NumPy docstrings.
autodoc_default_options = {"members": True}
autodoc_member_order = "bysource"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# Attributes sections as fields of their class: autodoc already documents a named tuple's fields as attributes.
napoleon_use_ivar = True

# Fail on a broken cross-reference (tools/build_site.py runs sphinx-build -W --keep-going -n). Python objects of
# other libraries (torch.Tensor, numpy.ndarray...) cannot resolve without intersphinx, which would download their
# inventories: the Python domain is left out of the nitpicky check; documents, labels and MyST links stay in.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r".*")]
# A package re-exports its modules' names (creditlib.exercises.Exercise is creditlib.exercises.core.Exercise), so a
# type hint can name two documented objects; Sphinx picks one. Only that ambiguity is silenced.
suppress_warnings = ["ref.python"]

html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
}
# The theme reads its colour mode from this (left unset, its script logs an error on every page).
html_context = {"default_mode": "light"}
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_last_updated_fmt = None
# MathJax 3 served with the site (tools/build_site.py copies it from the django-static-mathjax wheel): no CDN, so
# the pages typeset offline and in the browser test.
mathjax_path = "mathjax/tex-chtml.js"
