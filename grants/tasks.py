"""Background jobs of the grants app: none yet. Approvals, tranches and expenditures are written in the
request, in one transaction each; the allocations' exports stream in the request too."""
