"""The province-scale benchmark of issue 6 (``make bench``); not part of the product."""
