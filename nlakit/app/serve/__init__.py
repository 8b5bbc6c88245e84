"""`nlakit serve`: a local web explorer of an NLA (see app.py; the page is static/index.html).

Nothing is imported here, so `import nlakit.app.serve` does not need the optional `serve` extra.
"""
