"""Models of the grants app arrive with its issue."""
