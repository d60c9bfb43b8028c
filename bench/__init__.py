"""The province-scale benchmark (``make bench``); not part of the product."""
