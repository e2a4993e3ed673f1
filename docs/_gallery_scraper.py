"""The gallery's image scraper, in a module of its own so that Sphinx can pickle the config."""


class MatplotlibTight:
    """sphinx-gallery's matplotlib scraper saving with ``bbox_inches="tight"``, as notebooks do.

    Displays may put a legend beside the axes; a plain ``savefig`` would cut it off.
    """

    def __repr__(self):  # a stable value, so that Sphinx does not rebuild on every run
        return "MatplotlibTight"

    def __call__(self, *args, **kwargs):
        from sphinx_gallery.scrapers import matplotlib_scraper

        return matplotlib_scraper(*args, bbox_inches="tight", **kwargs)
