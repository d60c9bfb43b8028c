"""Models of the evaluation app arrive with its issue."""
